from .attr_coco_metric import AttrCocoMetric

__all__ = ['AttrCocoMetric']
