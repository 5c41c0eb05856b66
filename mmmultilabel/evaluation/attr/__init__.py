"""This project's metrics: category AP, attribute accuracy / F1,
attribute-aware AP and object-attribute (pair) AP."""

from .analysis import (
    MatchedAttributes,
    attr_confusion_matrix,
    attr_value_scores,
    attribute_errors,
    matched_attributes,
    pair_pr_curves,
    pair_value_ap,
    worst_images,
)
from .attr_coco_eval import AttrCOCOeval, macro_f1, multilabel_f1
from .attr_coco_metric import AttrCocoMetric
from .evaluate import (
    attr_coco_results,
    attr_coco_tables,
    check_metric_items,
    evaluate_attr_coco,
)

__all__ = [
    'AttrCOCOeval',
    'AttrCocoMetric',
    'MatchedAttributes',
    'attr_coco_results',
    'attr_coco_tables',
    'attr_confusion_matrix',
    'attr_value_scores',
    'attribute_errors',
    'check_metric_items',
    'evaluate_attr_coco',
    'macro_f1',
    'matched_attributes',
    'multilabel_f1',
    'pair_pr_curves',
    'pair_value_ap',
    'worst_images',
]
