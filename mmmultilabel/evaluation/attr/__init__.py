"""This project's metrics: category AP, attribute accuracy / F1,
attribute-aware AP and object-attribute (pair) AP.

The analysis functions (:mod:`.analysis`: confusion matrices, PR curves,
worst images) are imported when one of them is first used."""

from mmmultilabel.utils.lazy import lazy_exports

from .attr_coco_eval import AttrCOCOeval, macro_f1, multilabel_f1
from .attr_coco_metric import AttrCocoMetric
from .evaluate import (
    attr_coco_results,
    attr_coco_tables,
    check_metric_items,
    evaluate_attr_coco,
)

_LAZY = {
    '.analysis': [
        'MatchedAttributes',
        'attr_confusion_matrix',
        'attr_value_scores',
        'attribute_errors',
        'matched_attributes',
        'pair_pr_curves',
        'pair_value_ap',
        'worst_images',
    ],
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = _LAZY['.analysis'] + [
    'AttrCOCOeval',
    'AttrCocoMetric',
    'attr_coco_results',
    'attr_coco_tables',
    'check_metric_items',
    'evaluate_attr_coco',
    'macro_f1',
    'multilabel_f1',
]
