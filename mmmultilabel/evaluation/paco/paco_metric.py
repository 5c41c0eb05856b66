"""PACO's official metrics for a model's predictions."""

from mmdet.registry import METRICS

from ..base_metric import BenchmarkMetric
from .paco_eval import evaluate_paco


@METRICS.register_module()
class PacoMetric(BenchmarkMetric):
    """PACO's metrics, exactly as its official evaluation.

    Reports, for every metric in ``metric``, on ``ann_file`` (the published
    PACO file): ``<metric>_obj_attr_AP`` (objects),
    ``<metric>_obj_attr_part_AP`` (parts), per attribute type
    ``<metric>_obj_attr_AP_<type>`` / ``_obj_attr_part_AP_<type>``, LVIS'
    category ``<metric>_AP``, ``_AP50``, ``_AP75``, ``_APs``, ``_APm``,
    ``_APl`` (``_APr``, ``_APc``, ``_APf`` with frequencies) and
    ``<metric>_obj_AP`` / ``_obj_part_AP``. An attribute AP that nothing
    measures is NaN (as PACO's code; ``null`` in JSON files), a category AP
    -1 (as LVIS). The probabilities (``attr_scores``) are read as
    ``attribute_probs``; PACO's own ``maxDets`` and thresholds apply. The
    images evaluated are those of the data samples. Definitions and how it
    was checked: ``docs/evaluation.md``.

    Example:
        >>> test_evaluator = dict(
        ...     type='PacoMetric',
        ...     ann_file='annotations/paco_lvis_v1_val.json')

    Arguments: as :class:`~..base_metric.BenchmarkMetric`.
    """

    evaluate_protocol = staticmethod(evaluate_paco)
    # PACO's reader checks the file with PACO's own rules (it drops
    # annotations of area 0, which the attribute COCO form rejects)
    validate_gt = False
