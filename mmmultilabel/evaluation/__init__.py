"""Evaluation, one place per protocol.

Shared by every protocol: :mod:`.matching` (COCO's greedy matching,
batched), :mod:`.accumulate` (COCO's precision accumulation, batched),
:mod:`.results_io` (ground truth and results as COCO api objects),
:mod:`.result_forms` (the attribute fields of results in every form) and
:mod:`.base_metric` (what the metrics share). The protocols:
:mod:`.attr` (this project's metrics, :class:`AttrCocoMetric`),
:mod:`.fashionpedia` (:class:`FashionpediaMetric`) and :mod:`.paco`
(:class:`PacoMetric`); :mod:`.protocols` finds them by name.
"""

from .accumulate import coco_precision
from .attr import *  # noqa: F401,F403
from .attr import __all__ as _attr_all
from .fashionpedia import *  # noqa: F401,F403
from .fashionpedia import __all__ as _fashionpedia_all
from .matching import greedy_match, match_ragged
from .paco import *  # noqa: F401,F403
from .paco import __all__ as _paco_all
from .protocols import (
    FILE_PROTOCOLS,
    PROTOCOLS,
    evaluate_protocol,
    json_metrics,
)
from .result_forms import AttributeVocabulary, convert_results, to_own_form
from .results_io import load_attr_coco_api, load_results, official_gt_coco

__all__ = (
    _attr_all
    + _fashionpedia_all
    + _paco_all
    + [
        'AttributeVocabulary',
        'FILE_PROTOCOLS',
        'PROTOCOLS',
        'coco_precision',
        'convert_results',
        'evaluate_protocol',
        'greedy_match',
        'json_metrics',
        'load_attr_coco_api',
        'load_results',
        'match_ragged',
        'official_gt_coco',
        'to_own_form',
    ]
)
