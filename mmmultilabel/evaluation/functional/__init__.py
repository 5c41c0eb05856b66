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
from .fashionpedia_eval import FashionpediaEval, evaluate_fashionpedia
from .matching import greedy_match, match_ragged
from .paco_api import PacoFormatError, PacoGroundTruth, load_paco_results
from .paco_eval import PACOeval, evaluate_paco, paco_summary
from .paco_results import read_paco_result, write_paco_result
from .protocol_inputs import ResultsError
from .protocols import (
    FILE_PROTOCOLS,
    PROTOCOLS,
    ProtocolError,
    evaluate_protocol,
    json_metrics,
)
from .result_forms import AttributeVocabulary, convert_results, to_own_form
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
    'FashionpediaEval',
    'evaluate_fashionpedia',
    'ResultsError',
    'PROTOCOLS',
    'FILE_PROTOCOLS',
    'ProtocolError',
    'evaluate_protocol',
    'json_metrics',
    'AttributeVocabulary',
    'convert_results',
    'to_own_form',
    'macro_f1',
    'multilabel_f1',
    'load_attr_coco_api',
    'load_attr_results',
    'greedy_match',
    'match_ragged',
    'PacoFormatError',
    'PacoGroundTruth',
    'load_paco_results',
    'PACOeval',
    'evaluate_paco',
    'paco_summary',
    'read_paco_result',
    'write_paco_result',
    'attr_coco_results',
    'attr_coco_tables',
    'check_metric_items',
    'evaluate_attr_coco',
]
