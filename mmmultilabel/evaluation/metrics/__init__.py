from .inverseform_metric import InverseFormMetric

__all__ = ['InverseFormMetric']
