"""Fashionpedia's official metrics for a model's predictions."""

from typing import Dict, List, Optional, Sequence, Union

from mmdet.registry import METRICS

from mmmultilabel.utils import AttributeSpec

from ..base_metric import BaseAttrCocoMetric
from .fashionpedia_eval import evaluate_fashionpedia


@METRICS.register_module()
class FashionpediaMetric(BaseAttrCocoMetric):
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

    Args:
        ann_file (str): The benchmark's ground-truth file as published.
        metric (str | Sequence[str]): ``'bbox'`` and/or ``'segm'``.
            Defaults to ``('bbox', 'segm')``.
        format_only (bool): Only write the results files. Defaults to
            False.
        outfile_prefix (str, optional): Prefix of the results files
            (``<prefix>.segm.json`` in this project's result form).
            Defaults to None (no files).
        backend_args (dict, optional): Arguments of the file backend.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'coco'.
    """

    def __init__(
        self,
        ann_file: Optional[str] = None,
        metric: Union[str, Sequence[str]] = ('bbox', 'segm'),
        format_only: bool = False,
        outfile_prefix: Optional[str] = None,
        backend_args: Optional[dict] = None,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(
            metric=metric,
            format_only=format_only,
            outfile_prefix=outfile_prefix,
            backend_args=backend_args,
            collect_device=collect_device,
            prefix=prefix,
        )
        self._load_published_gt(ann_file, validate=True)

    def evaluate_results(
        self, metric: str, results: List[dict], spec: AttributeSpec
    ) -> Dict[str, float]:
        """AP^{IoU+F1} and AP^{IoU} of one iou type, as ``FPEval``."""
        return self._protocol_metrics(metric, results, evaluate_fashionpedia)
