"""Metric dicts and tables of an :class:`AttrCOCOeval`.

Shared by :class:`~mmmultilabel.evaluation.AttrCocoMetric` and
``tools/analysis_tools/eval_results.py`` so that both report the same
numbers under the same names.
"""

from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmdet.datasets.api_wrappers import COCO
from terminaltables import AsciiTable

from mmmultilabel.utils import AttributeSpec

from ..accumulate import summarize_ap
from ..base_metric import round_metrics
from ..results_io import load_results
from .attr_coco_eval import AttrCOCOeval

#: Index of each category metric in ``COCOeval.stats`` (as mmdet's
#: ``CocoMetric``).
COCO_METRIC_NAMES = {
    name: index
    for index, name in enumerate(
        ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@100',
         'AR@300', 'AR@1000', 'AR_s@1000', 'AR_m@1000', 'AR_l@1000')
    )
}  # fmt: skip
DEFAULT_ITEMS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')


def check_metric_items(metric_items: Optional[Sequence[str]]) -> None:
    """Raise for a metric item that ``COCOeval.stats`` does not have."""
    for item in metric_items or ():
        if item not in COCO_METRIC_NAMES:
            raise KeyError(
                f'metric item "{item}" is not supported; choose '
                f'from {list(COCO_METRIC_NAMES)}'
            )


def _mean(precision: np.ndarray, iou_thrs=None, iou_thr=None) -> float:
    """AP of this project's tables: the IoU threshold picked with
    ``np.isclose``, NaN when nothing is measured."""
    return summarize_ap(precision, iou_thrs, iou_thr, False, float('nan'))


def _fmt(value: float) -> str:
    return 'nan' if value != value or value == -1 else f'{value:.3f}'


def _aps(precision: np.ndarray, iou_thrs) -> List[str]:
    """AP, AP_50 and AP_75 of a (T, R) precision, formatted."""
    return [_fmt(_mean(precision, iou_thrs, t)) for t in (None, 0.5, 0.75)]


def attr_coco_results(
    ev: AttrCOCOeval,
    metric_items: Optional[Sequence[str]] = None,
    classwise: bool = False,
    prefix: str = '',
    ndigits: Optional[int] = None,
) -> Dict[str, float]:
    """Metrics of one evaluated, accumulated and summarized eval.

    Args:
        ev (AttrCOCOeval): After ``evaluate``, ``accumulate``,
            ``summarize``.
        metric_items (Sequence[str], optional): Category metrics to report,
            names of :data:`COCO_METRIC_NAMES`. Defaults to
            :data:`DEFAULT_ITEMS`.
        classwise (bool): Also report ``<category>_precision`` (category
            AP of every category). Defaults to False.
        prefix (str): Put before every name, e.g. ``'segm_'``.
            Defaults to ''.
        ndigits (int, optional): Round to this many decimals (counts stay
            integers). Defaults to None (no rounding).

    Returns:
        dict: Category metrics (``mAP``, ...) then ``ev.attr_stats``.
    """
    check_metric_items(metric_items)
    out: Dict[str, float] = OrderedDict()
    for item in metric_items or DEFAULT_ITEMS:
        out[item] = float(ev.stats[COCO_METRIC_NAMES[item]])
    if classwise:
        precision = ev.eval['precision']
        for k, cat_id in enumerate(ev.params.catIds):
            name = ev.cocoGt.cats[cat_id]['name']
            out[f'{name}_precision'] = _mean(precision[:, :, k, 0, -1])
    out.update(ev.attr_stats)
    return round_metrics(out, prefix, ndigits)


def evaluate_attr_coco(
    coco_gt: COCO,
    results: Union[str, Sequence[dict]],
    iou_type: str,
    cat_ids: Optional[Sequence[int]] = None,
    img_ids: Optional[Sequence[int]] = None,
    max_dets: Sequence[int] = (100, 300, 1000),
    iou_thrs: Optional[Sequence[float]] = None,
    attribute_groups: Union[Sequence[dict], AttributeSpec, None] = None,
    attr_iou_thr: float = 0.5,
    attr_f1_thr: float = 0.5,
    source: Optional[str] = None,
) -> AttrCOCOeval:
    """Evaluate results as :class:`AttrCocoMetric` does.

    Args:
        coco_gt (COCO): Ground truth from :func:`load_attr_coco_api`.
        results (str | Sequence[dict]): Results file or list in COCO format
            with ``attributes`` / ``attribute_scores``.
        iou_type (str): ``'bbox'`` or ``'segm'``.
        cat_ids (Sequence[int], optional): Categories to evaluate. Defaults
            to all categories of the ground truth.
        img_ids (Sequence[int], optional): Images to evaluate (with or
            without predictions). Defaults to all images of the ground
            truth.
        max_dets (Sequence[int]): COCO's ``maxDets``. Defaults to
            mmdet's ``(100, 300, 1000)``.
        iou_thrs (Sequence[float], optional): IoU thresholds. Defaults to
            COCO's 0.50:0.05:0.95.
        attribute_groups (list[dict] | AttributeSpec, optional): Defaults
            to the ground truth's ``attribute_groups``.
        attr_iou_thr (float): See :class:`AttrCOCOeval`.
        attr_f1_thr (float): See :class:`AttrCOCOeval`.
        source (str, optional): Name of the results in messages.

    Returns:
        AttrCOCOeval: Evaluated, accumulated and summarized (COCO's summary
        is printed).
    """
    coco_dt = load_results(coco_gt, results, iou_type, source=source)
    ev = AttrCOCOeval(
        coco_gt, coco_dt, iou_type, attribute_groups, attr_iou_thr, attr_f1_thr
    )
    if cat_ids is not None:
        ev.params.catIds = list(cat_ids)
    if img_ids is not None:
        ev.params.imgIds = list(img_ids)
    ev.params.maxDets = list(max_dets)
    if iou_thrs is not None:
        ev.params.iouThrs = np.atleast_1d(np.asarray(iou_thrs, dtype=float))
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev


def attr_coco_tables(ev: AttrCOCOeval) -> List[str]:
    """Per-category, per-group and per-(category, value) tables.

    Args:
        ev (AttrCOCOeval): After ``evaluate``, ``accumulate``,
            ``summarize``.

    Returns:
        list[str]: Rendered tables. Category columns are COCO's AP (area
        columns as in mmdet); ``attr_*`` columns the attribute-aware AP;
        the pair table lists the pairs that have a ground truth (read from
        the precision columns of those pairs only).
    """
    p = ev.params
    precision = ev.eval['precision']  # (T, R, K, A, M)
    attr = ev.attr_eval['precision']  # (T, R, K)
    areas = [
        p.areaRngLbl.index(a)
        for a in ('small', 'medium', 'large')
        if a in p.areaRngLbl
    ]
    names = [ev.cocoGt.cats[c]['name'] for c in p.catIds]

    area_names = [f'mAP_{p.areaRngLbl[a][0]}' for a in areas]
    rows = [
        ['category', 'mAP', 'mAP_50', 'mAP_75']
        + area_names
        + ['attr_mAP', 'attr_mAP_50', 'attr_mAP_75']
    ]
    for k, name in enumerate(names):
        rows.append(
            [name]
            + _aps(precision[:, :, k, 0, -1], p.iouThrs)
            + [_fmt(_mean(precision[:, :, k, a, -1])) for a in areas]
            + _aps(attr[:, :, k], p.iouThrs)
        )
    tables = [AsciiTable(rows, 'category and attribute-aware AP').table]

    spec = ev.spec
    if len(spec) == 0:
        return tables
    rows = [
        [
            'group',
            'type',
            'values',
            'matched',
            'acc / F1',
            'pair_mAP',
            'pair_mAP_50',
        ]
    ]
    scores = ev.attribute_scores()
    for group in spec:
        kind, value, count = scores[group.name]
        classes = ev.group_pair_classes(group.name).ravel()
        rows.append(
            [
                group.name,
                'multi' if group.multi_label else 'single',
                str(group.num_values),
                str(count),
                f'{kind} {_fmt(value)}',
                _fmt(ev.pair_mean_ap(classes=classes)),
                _fmt(ev.pair_mean_ap(0.5, classes)),
            ]
        )
    tables.append(AsciiTable(rows, 'attribute groups').table)

    rows = [['category', 'group', 'value', 'AP', 'AP_50', 'AP_75']]
    # only the pairs with a ground truth have a precision column; they
    # come in class order k * S + s: category, then group, then value
    values = [(g.name, v) for g in spec for v in g.values]
    num_vals = spec.num_values
    classes, pair = ev.sparse_pair_precision()  # (A,), (T, R, A)
    for j, cls in enumerate(classes.tolist()):
        rows.append(
            [names[cls // num_vals], *values[cls % num_vals]]
            + _aps(pair[:, :, j], p.iouThrs)
        )
    tables.append(AsciiTable(rows, 'object-attribute AP').table)
    return tables
