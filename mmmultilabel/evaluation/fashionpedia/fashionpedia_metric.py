"""Fashionpedia's official metrics for a model's predictions."""

from mmdet.registry import METRICS

from ..base_metric import BenchmarkMetric
from .fashionpedia_eval import evaluate_fashionpedia


@METRICS.register_module()
class FashionpediaMetric(BenchmarkMetric):
    """Fashionpedia's metrics, exactly as its official ``FPEval``.

    Reports, for every metric in ``metric``, on ``ann_file`` (the published
    Fashionpedia file): ``<metric>_AP_iou_f1`` (AP^{IoU+F1}),
    ``_AP_iou_f1_50``, ``_75``, ``_s``, ``_m``, ``_l`` and the same for
    ``<metric>_AP_iou`` (AP^{IoU}), -1 where nothing is measured. The
    predicted values (``attr_labels``) are read as attribute ids;
    Fashionpedia's own ``maxDets`` and thresholds apply. Definitions and how
    it was checked: ``docs/evaluation.md``.

    Example:
        >>> test_evaluator = dict(
        ...     type='FashionpediaMetric',
        ...     ann_file='annotations/instances_attributes_val2020.json')

    Arguments: as :class:`~..base_metric.BenchmarkMetric`.
    """

    evaluate_protocol = staticmethod(evaluate_fashionpedia)
