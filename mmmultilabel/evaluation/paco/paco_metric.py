"""PACO's official metrics for a model's predictions."""

from typing import Dict, List, Optional, Sequence, Union

from mmdet.registry import METRICS

from mmmultilabel.utils import AttributeSpec

from ..base_metric import BaseAttrCocoMetric
from .paco_eval import evaluate_paco


@METRICS.register_module()
class PacoMetric(BaseAttrCocoMetric):
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
        # PACO's reader checks the file with PACO's own rules (it drops
        # annotations of area 0, which the attribute COCO form rejects)
        self._load_published_gt(ann_file, validate=False)

    def evaluate_results(
        self, metric: str, results: List[dict], spec: AttributeSpec
    ) -> Dict[str, float]:
        """PACO's attribute and category APs of one iou type."""
        return self._protocol_metrics(metric, results, evaluate_paco)
