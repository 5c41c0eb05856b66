"""The evaluation protocols by name, for ``eval_results.py --protocol``.

* ``attr``: this project's metrics (:func:`.attr.evaluate_attr_coco`), the
  default; it works on COCO api objects, so it is not dispatched here;
* ``fashionpedia``: :func:`.fashionpedia.evaluate_fashionpedia`;
* ``paco``: :func:`.paco.evaluate_paco`.

Every file protocol function has the shape ``(gt, results, iou_type,
**options) -> (metrics, tables)``: ``gt`` the parsed ground-truth file as
published, ``results`` the parsed results list, ``metrics`` ``{name:
value}`` without the iou-type prefix, ``tables`` printable strings.
Options every protocol takes: ``gt_source`` and ``results_source`` (file
names for messages) and ``img_ids`` (the images to evaluate; default all
images of the ground truth). Their metrics are
:class:`~.FashionpediaMetric` and :class:`~.PacoMetric`.

Values are fractions. Where nothing is measured, the ``fashionpedia``
protocol gives -1 (as COCOeval prints) and the ``paco`` protocol -1 (its
LVIS category APs) or NaN (its attribute APs, as PACO's own code); JSON has
no NaN, so :func:`json_metrics` writes it as ``null``.
"""

import math
from typing import Dict, List, Optional, Tuple

from mmmultilabel.utils.errors import ConfigError

from .fashionpedia import evaluate_fashionpedia
from .paco import evaluate_paco

#: Protocols, the default first.
PROTOCOLS = ('attr', 'fashionpedia', 'paco')
#: Protocols that read the published ground-truth file themselves.
FILE_PROTOCOLS = ('fashionpedia', 'paco')
_FUNCTIONS = dict(fashionpedia=evaluate_fashionpedia, paco=evaluate_paco)


def json_metrics(metrics: Dict[str, float]) -> Dict[str, Optional[float]]:
    """``metrics`` with NaN as None, which JSON writes as ``null``."""
    return {
        k: None if isinstance(v, float) and math.isnan(v) else v
        for k, v in metrics.items()
    }


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

    Raises:
        ConfigError: if the protocol is not a file protocol.
    """
    if protocol not in _FUNCTIONS:
        raise ConfigError(
            f'protocol {protocol!r} is not one of {list(FILE_PROTOCOLS)} '
            '(the default protocol "attr" is evaluated by '
            'evaluate_attr_coco)'
        )
    return _FUNCTIONS[protocol](gt, results, iou_type, **options)
