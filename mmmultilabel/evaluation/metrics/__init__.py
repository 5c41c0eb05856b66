from .attr_coco_metric import AttrCocoMetric
from .inverseform_metric import InverseFormMetric

__all__ = ['AttrCocoMetric', 'InverseFormMetric']
