from .inverseform_regressor import InverseFormRegressor

__all__ = ['InverseFormRegressor']
