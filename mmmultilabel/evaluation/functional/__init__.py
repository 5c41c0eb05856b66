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
