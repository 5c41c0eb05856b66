"""COCO metric for instances with attribute groups."""

import inspect
import warnings
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmdet.registry import METRICS
from mmengine.logging import MMLogger

from mmmultilabel.datasets.formats import (
    CVAT_COCO,
    detect_format,
    read_annotation_file,
)
from mmmultilabel.utils import AttributeSpec
from mmmultilabel.utils.errors import AnnotationDefectError, ConfigError

from ..base_metric import BaseAttrCocoMetric
from ..results_io import load_attr_coco_api
from .evaluate import (
    attr_coco_results,
    attr_coco_tables,
    check_metric_items,
    evaluate_attr_coco,
)

#: Metric type of each benchmark protocol of the deprecated ``protocol=``.
PROTOCOL_METRICS = dict(fashionpedia='FashionpediaMetric', paco='PacoMetric')


@METRICS.register_module()
class AttrCocoMetric(BaseAttrCocoMetric):
    """COCO AP plus attribute accuracy and attribute-aware AP.

    For every metric in ``metric`` (``'bbox'``, ``'segm'``) it reports the
    category AP exactly as pycocotools' ``COCOeval`` computes it
    (``segm_mAP``, ``segm_mAP_50``, ... as mmdet's ``CocoMetric``) and the
    attribute metrics of :class:`AttrCOCOeval`:

    * ``<metric>_attr_mAP`` / ``_attr_mAP_50`` / ``_attr_mAP_75``:
      attribute-aware AP (a true positive also predicts every known
      attribute right);
    * ``<metric>_pair_mAP`` / ``_50`` / ``_75``: object-attribute AP over
      all (category, attribute value) pairs, PACO-like (not PACO's
      ``obj-attr-AP``, which :class:`PacoMetric` gives);
    * per group ``g``: ``<metric>_<g>_acc`` (single-label) or
      ``<metric>_<g>_f1`` (multi-label, macro F1) over the detections
      matched at IoU ``attr_iou_thr``, ``<metric>_<g>_num`` (how many were
      scored) and ``<metric>_<g>_pair_mAP``.

    Definitions: ``docs/evaluation.md``. Predictions, results files and
    images as :class:`BaseAttrCocoMetric`; ``python
    tools/analysis_tools/eval_results.py GT RESULTS`` evaluates a results
    file offline with the same numbers. Fashionpedia's and PACO's official
    metrics are :class:`FashionpediaMetric` and :class:`PacoMetric`; the
    former ``protocol='fashionpedia'`` / ``'paco'`` of this class still
    builds them, with a deprecation warning.

    Args:
        ann_file (str, optional): Ground truth in any form that
            :func:`~mmmultilabel.datasets.load_attr_coco` reads. If None,
            it is built from the samples' ``instances`` (their
            ``attr_labels`` rows or ``attributes`` dicts). Defaults to
            None.
        metric (str | Sequence[str]): ``'bbox'`` and/or ``'segm'``.
            Defaults to ``('bbox', 'segm')``.
        classwise (bool): Log the per-category, per-group and
            per-(category, value) tables and report
            ``<metric>_<category>_precision``. Defaults to False.
        proposal_nums (Sequence[int]): COCO's ``maxDets``; attribute APs
            use the last. Defaults to (100, 300, 1000).
        iou_thrs (float | Sequence[float], optional): IoU thresholds.
            Defaults to COCO's 0.50:0.05:0.95.
        metric_items (Sequence[str], optional): Category metrics to report,
            as in ``CocoMetric``; the attribute metrics are always
            reported. Defaults to None.
        format_only (bool): Only write the results files. Defaults to
            False.
        outfile_prefix (str, optional): Prefix of the results files.
            Defaults to None (no files).
        backend_args (dict, optional): Arguments of the file backend.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'coco'.
        attr_iou_thr (float): IoU threshold of the matches whose attributes
            are scored by accuracy / F1; one of ``iou_thrs``. Defaults to
            0.5.
        attr_f1_thr (float): F1 a multi-label group needs to count as right
            in the attribute-aware AP. Defaults to 0.5.
        protocol (str): Deprecated: ``'attr'`` (this class), or
            ``'fashionpedia'`` / ``'paco'``, which build
            :class:`FashionpediaMetric` / :class:`PacoMetric` instead.
    """

    def __new__(cls, *args, protocol: str = 'attr', **kwargs):
        """``protocol='fashionpedia'`` / ``'paco'`` (deprecated) builds
        that benchmark's metric from the arguments it takes."""
        if protocol == 'attr':
            return super().__new__(cls)
        if protocol not in PROTOCOL_METRICS:
            raise ConfigError(
                "protocol must be one of ['attr', 'fashionpedia', 'paco'], "
                f'got {protocol!r}'
            )
        new_type = METRICS.get(PROTOCOL_METRICS[protocol])
        takes = inspect.signature(new_type.__init__).parameters
        dropped = sorted(k for k in kwargs if k not in takes)
        warnings.warn(
            f"AttrCocoMetric(protocol='{protocol}') is deprecated: use "
            f"dict(type='{new_type.__name__}', ...)"
            + (f'; ignored: {dropped}' if dropped else ''),
            DeprecationWarning,
            stacklevel=2,
        )
        keep = {k: v for k, v in kwargs.items() if k in takes}
        return new_type(*args, **keep)

    def __init__(
        self,
        ann_file: Optional[str] = None,
        metric: Union[str, Sequence[str]] = ('bbox', 'segm'),
        classwise: bool = False,
        proposal_nums: Sequence[int] = (100, 300, 1000),
        iou_thrs: Optional[Union[float, Sequence[float]]] = None,
        metric_items: Optional[Sequence[str]] = None,
        format_only: bool = False,
        outfile_prefix: Optional[str] = None,
        backend_args: Optional[dict] = None,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
        attr_iou_thr: float = 0.5,
        attr_f1_thr: float = 0.5,
        protocol: str = 'attr',
    ) -> None:
        check_metric_items(metric_items)
        super().__init__(
            metric=metric,
            format_only=format_only,
            outfile_prefix=outfile_prefix,
            backend_args=backend_args,
            collect_device=collect_device,
            prefix=prefix,
            classwise=classwise,
            proposal_nums=proposal_nums,
            iou_thrs=iou_thrs,
            metric_items=metric_items,
        )
        self.iou_thrs = np.atleast_1d(np.asarray(self.iou_thrs, float))
        if not np.isclose(self.iou_thrs, attr_iou_thr).any():
            raise ConfigError(
                f'attr_iou_thr={attr_iou_thr} must be one of '
                f'iou_thrs {self.iou_thrs.tolist()}'
            )
        self.ann_file = ann_file
        self.attr_iou_thr = attr_iou_thr
        self.attr_f1_thr = attr_f1_thr
        # the COCO 1.0 of CVAT declares no groups: read once dataset_meta
        # gives them (the Runner sets it before the first batch)
        self._pending_gt: Optional[tuple] = None
        if ann_file is not None:
            try:
                self._load_gt(ann_file, backend_args)
            except AnnotationDefectError:
                raw = read_annotation_file(ann_file, backend_args)
                if detect_format(raw) != CVAT_COCO:
                    raise
                self._pending_gt = (ann_file, backend_args)

    def _load_gt(
        self,
        ann_file: str,
        backend_args: Optional[dict],
        attribute_groups: Optional[list] = None,
    ) -> None:
        """Read the ground truth of ``ann_file`` into ``_coco_api``."""
        self._coco_api = load_attr_coco_api(
            ann_file, backend_args, attribute_groups=attribute_groups
        )

    @property
    def dataset_meta(self) -> Optional[dict]:
        """Meta info of the data set (mmengine's ``BaseMetric``)."""
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: Optional[dict]) -> None:
        self._dataset_meta = dataset_meta
        groups = (dataset_meta or {}).get('attribute_groups')
        if self._pending_gt is not None and groups is not None:
            self._load_gt(*self._pending_gt, attribute_groups=groups)
            self._pending_gt = None

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """As :meth:`BaseAttrCocoMetric.process`; a ground truth still
        waiting for its groups (no ``attribute_groups`` in
        ``dataset_meta``) raises its defect here."""
        if self._pending_gt is not None:
            self._load_gt(*self._pending_gt)
        super().process(data_batch, data_samples)

    def evaluate_results(
        self, metric: str, results: List[dict], spec: AttributeSpec
    ) -> Dict[str, float]:
        """Category AP and the attribute metrics of one iou type."""
        logger: MMLogger = MMLogger.get_current_instance()
        ev = evaluate_attr_coco(
            self._coco_api,
            results,
            metric,
            cat_ids=self.cat_ids,
            img_ids=self.img_ids,
            max_dets=self.proposal_nums,
            iou_thrs=self.iou_thrs,
            attribute_groups=spec,
            attr_iou_thr=self.attr_iou_thr,
            attr_f1_thr=self.attr_f1_thr,
        )
        out = attr_coco_results(
            ev,
            self.metric_items,
            self.classwise,
            prefix=f'{metric}_',
            ndigits=3,
        )
        if self.classwise:
            for table in attr_coco_tables(ev):
                logger.info('\n' + table)
        ap = ev.stats[:6]
        logger.info(
            f'{metric}_mAP_copypaste: {ap[0]:.3f} '
            f'{ap[1]:.3f} {ap[2]:.3f} {ap[3]:.3f} '
            f'{ap[4]:.3f} {ap[5]:.3f}'
        )
        logger.info(
            f'{metric}_attr_mAP: {ev.attr_stats["attr_mAP"]:.3f}'
            f', {metric}_pair_mAP: '
            f'{ev.attr_stats["pair_mAP"]:.3f}'
        )
        return out
