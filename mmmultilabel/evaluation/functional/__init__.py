from .attr_analysis import (
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
from .coco_api import load_attr_coco_api, load_attr_results
from .matching import greedy_match, match_ragged
from .summary import (
    attr_coco_results,
    attr_coco_tables,
    check_metric_items,
    evaluate_attr_coco,
)

__all__ = [
    'MatchedAttributes',
    'attribute_errors',
    'attr_confusion_matrix',
    'matched_attributes',
    'pair_pr_curves',
    'pair_value_ap',
    'attr_value_scores',
    'worst_images',
    'AttrCOCOeval',
    'macro_f1',
    'multilabel_f1',
    'load_attr_coco_api',
    'load_attr_results',
    'greedy_match',
    'match_ragged',
    'attr_coco_results',
    'attr_coco_tables',
    'check_metric_items',
    'evaluate_attr_coco',
]
