"""Evaluation, one place per protocol.

Shared by every protocol: :mod:`.matching` (COCO's greedy matching,
batched), :mod:`.accumulate` (COCO's precision accumulation, batched),
:mod:`.results_io` (ground truth and results as COCO api objects),
:mod:`.result_forms` (the attribute fields of results in every form) and
:mod:`.base_metric` (what the metrics share). The protocols:
:mod:`.attr` (this project's metrics, :class:`AttrCocoMetric`),
:mod:`.fashionpedia` (:class:`FashionpediaMetric`) and :mod:`.paco`
(:class:`PacoMetric`); :mod:`.protocols` finds them by name.

The Fashionpedia and PACO protocols and the dispatch by name are imported
when one of their names is first used (``from mmmultilabel.evaluation
import PacoMetric``); their metrics are registered when ``METRICS`` is
first searched (:mod:`mmmultilabel.registry`).
"""

from mmmultilabel.utils.lazy import lazy_exports

from .accumulate import coco_precision
from .attr import _LAZY as _ATTR_LAZY
from .attr import (
    AttrCOCOeval,
    AttrCocoMetric,
    attr_coco_results,
    attr_coco_tables,
    check_metric_items,
    evaluate_attr_coco,
    macro_f1,
    multilabel_f1,
)
from .matching import greedy_match, match_ragged
from .result_forms import AttributeVocabulary, convert_results, to_own_form
from .results_io import load_attr_coco_api, load_results, official_gt_coco

_LAZY = {
    '.attr': _ATTR_LAZY['.analysis'],
    '.fashionpedia': [
        'FashionpediaEval',
        'FashionpediaMetric',
        'evaluate_fashionpedia',
    ],
    '.paco': [
        'PACOeval',
        'PacoGroundTruth',
        'PacoMetric',
        'evaluate_paco',
        'load_paco_results',
        'paco_summary',
    ],
    '.protocols': [
        'FILE_PROTOCOLS',
        'PROTOCOLS',
        'evaluate_protocol',
        'json_metrics',
    ],
}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = [name for names in _LAZY.values() for name in names] + [
    'AttrCOCOeval',
    'AttrCocoMetric',
    'AttributeVocabulary',
    'attr_coco_results',
    'attr_coco_tables',
    'check_metric_items',
    'coco_precision',
    'convert_results',
    'evaluate_attr_coco',
    'greedy_match',
    'load_attr_coco_api',
    'load_results',
    'macro_f1',
    'match_ragged',
    'multilabel_f1',
    'official_gt_coco',
    'to_own_form',
]
