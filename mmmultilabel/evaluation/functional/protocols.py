"""Benchmark protocols behind ``AttrCocoMetric(protocol=...)`` and
``eval_results.py --protocol``.

* ``attr``: this project's metrics (:func:`.evaluate_attr_coco`), the
  default; it is not dispatched here because it works on COCO api objects;
* ``fashionpedia``: :func:`.fashionpedia_eval.evaluate_fashionpedia`;
* ``paco``: ``paco_eval.evaluate_paco``, imported when used.

Every protocol function has the shape ``(gt, results, iou_type,
**options) -> (metrics, tables)``: ``gt`` the parsed ground-truth file as
published, ``results`` the parsed results list, ``metrics`` ``{name:
value}`` without the iou-type prefix, ``tables`` printable strings.
Options every protocol takes: ``gt_source`` and ``results_source`` (file
names for messages) and ``img_ids`` (the images to evaluate; default all
images of the ground truth).

Values are fractions. Where nothing is measured, the ``fashionpedia``
protocol gives -1 (as COCOeval prints) and the ``paco`` protocol -1 (its
LVIS category APs) or NaN (its attribute APs, as PACO's own code); JSON has
no NaN, so :func:`json_metrics` writes it as ``null``.
"""

import importlib
import importlib.util
import math
from typing import Dict, List, Optional, Tuple

#: Protocols, the default first.
PROTOCOLS = ('attr', 'fashionpedia', 'paco')
#: Protocols that read the published ground-truth file themselves.
FILE_PROTOCOLS = ('fashionpedia', 'paco')
#: ``{protocol: (module of this package, function)}``.
_FUNCTIONS = {
    'fashionpedia': ('fashionpedia_eval', 'evaluate_fashionpedia'),
    'paco': ('paco_eval', 'evaluate_paco'),
}


def json_metrics(metrics: Dict[str, float]) -> Dict[str, Optional[float]]:
    """``metrics`` with NaN as None, which JSON writes as ``null``."""
    return {
        k: None if isinstance(v, float) and math.isnan(v) else v
        for k, v in metrics.items()
    }


class ProtocolError(ValueError):
    """A protocol that is unknown or not available here."""


def protocol_function(protocol: str):
    """The evaluation function of a file protocol, imported lazily.

    Raises:
        ProtocolError: if the protocol is unknown or its module is missing.
    """
    if protocol not in _FUNCTIONS:
        raise ProtocolError(
            f'protocol {protocol!r} is not one of {list(FILE_PROTOCOLS)} '
            f'(the default protocol "attr" is evaluated by '
            'evaluate_attr_coco)'
        )
    module, name = _FUNCTIONS[protocol]
    full = f'{__package__}.{module}'
    if importlib.util.find_spec(full) is None:
        raise ProtocolError(
            f'the {protocol} protocol needs {full}.{name}, which this '
            'installation does not have'
        )
    return getattr(importlib.import_module(full), name)


def evaluate_protocol(
    protocol: str, gt: dict, results: list, iou_type: str, **options
) -> Tuple[Dict[str, float], List[str]]:
    """Evaluate ``results`` against ``gt`` with a file protocol.

    Args:
        protocol (str): ``'fashionpedia'`` or ``'paco'``.
        gt (dict): Parsed ground-truth file.
        results (list): Parsed results.
        iou_type (str): ``'segm'`` or ``'bbox'``.
        **options: Passed to the protocol function.

    Returns:
        tuple: ``(metrics, tables)`` as the protocol function returns.
    """
    return protocol_function(protocol)(gt, results, iou_type, **options)
