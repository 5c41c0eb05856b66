"""What an evaluated :class:`AttrCOCOeval` says about each attribute value.

The analysis tools (``tools/analysis_tools/attr_confusion_matrix.py``,
``attr_pr_curves.py``, ``attr_worst_images.py``) draw what these functions
return. Nothing here matches anew: every number comes from the matches
and precision arrays of an evaluated, accumulated ``AttrCOCOeval``:

* :func:`matched_attributes`: the detections that COCO's matching pairs
  with a regular ground truth of their category at ``attr_iou_thr`` (the
  pairs that attribute accuracy and F1 score), with both label rows;
* :func:`attr_confusion_matrix` and :func:`attr_value_scores`: true value x
  predicted value of a single-label group, and per-value precision, recall
  and F1 of a group, over those pairs;
* :func:`attribute_errors` and :func:`worst_images`: the pairs whose
  predicted attribute is wrong, one row per (pair, group), and the images
  with most of them;
* :func:`pair_pr_curves` and :func:`pair_value_ap`: COCO's interpolated
  precision-recall curve and AP of every (category, attribute value) pair
  class of the object-attribute AP.
"""

from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from mmmultilabel.utils import UNKNOWN, AttributeGroup

from .attr_coco_eval import AttrCOCOeval, multilabel_f1, value_f1, value_hot

#: Label of the confusion-matrix row of ground truths whose group is
#: unknown, and of the column of detections that predict no value.
UNKNOWN_NAME = 'unknown'
NONE_NAME = 'none'


@dataclass
class MatchedAttributes:
    """Detections matched at ``attr_iou_thr`` and their ground truths.

    Attributes:
        result_ids (np.ndarray): (P,) result annotation id (in
            ``ev.cocoDt``).
        gt_ids (np.ndarray): (P,) ground-truth annotation id.
        image_ids (np.ndarray): (P,) image id.
        category_ids (np.ndarray): (P,) category id.
        scores (np.ndarray): (P,) detection score.
        dt_labels (np.ndarray): (P, D) predicted label rows.
        gt_labels (np.ndarray): (P, D) ground-truth label rows.
        dt_probs (np.ndarray): (P, S) predicted probability of every value.
    """

    result_ids: np.ndarray
    gt_ids: np.ndarray
    image_ids: np.ndarray
    category_ids: np.ndarray
    scores: np.ndarray
    dt_labels: np.ndarray
    gt_labels: np.ndarray
    dt_probs: np.ndarray

    def __len__(self) -> int:
        return len(self.result_ids)

    def select(self, keep: np.ndarray) -> 'MatchedAttributes':
        """The pairs where ``keep`` (P,) is true, e.g. ``scores >= t``."""
        return MatchedAttributes(
            **{name: value[keep] for name, value in vars(self).items()}
        )


def matched_attributes(ev: AttrCOCOeval) -> MatchedAttributes:
    """The pairs scored by attribute accuracy / F1, in ``ev``'s order.

    Args:
        ev (AttrCOCOeval): After :meth:`~AttrCOCOeval.evaluate`.

    Returns:
        MatchedAttributes: One entry per matched pair.
    """
    if 'pairs_matched' not in ev.attr_eval:
        raise ValueError('run AttrCOCOeval.evaluate() before the analysis')
    # AttrCOCOeval keeps label rows by row number, and the id of each row
    det_rows, gt_rows = ev.attr_eval['pairs_matched']
    result_ids = ev._dt_ids[det_rows]
    dts = [ev.cocoDt.anns[int(i)] for i in result_ids]
    return MatchedAttributes(
        result_ids=result_ids,
        gt_ids=ev._gt_ids[gt_rows],
        image_ids=np.array([d['image_id'] for d in dts], dtype=np.int64),
        category_ids=np.array([d['category_id'] for d in dts], dtype=np.int64),
        scores=np.array([d['score'] for d in dts], dtype=np.float64),
        dt_labels=ev._dt_labels[det_rows].astype(np.int64),
        gt_labels=ev._gt_labels[gt_rows].astype(np.int64),
        dt_probs=ev._dt_probs[det_rows],
    )


def _group(ev: AttrCOCOeval, group: str) -> Tuple[AttributeGroup, slice]:
    """The declared group ``group`` and its label columns."""
    if group not in ev.spec.names:
        raise KeyError(
            f'attribute group "{group}" is not declared; groups are '
            f'{ev.spec.names}'
        )
    return ev.spec.group(group), ev.spec.label_slices[group]


def attr_confusion_matrix(
    ev: AttrCOCOeval, matched: MatchedAttributes, group: str
) -> dict:
    """True value x predicted value of a single-label group.

    Counts the matched pairs of :func:`matched_attributes`. Row ``V``
    (:data:`UNKNOWN_NAME`) holds the pairs whose ground truth does not know
    the group (left out of the accuracy); column ``V`` (:data:`NONE_NAME`)
    the detections that predict no value. The accuracy of the group is
    ``trace(M[:V, :V]) / M[:V].sum()``.

    Args:
        ev (AttrCOCOeval): The evaluation.
        matched (MatchedAttributes): Its matched pairs.
        group (str): A single-label group.

    Returns:
        dict: ``counts`` (V + 1, V + 1) int64, rows true, columns
        predicted; ``rows`` and ``cols``, their V + 1 labels (the values,
        then :data:`UNKNOWN_NAME` / :data:`NONE_NAME`).
    """
    g, lsl = _group(ev, group)
    if g.multi_label:
        raise ValueError(
            f'group "{group}" is multi-label: use attr_value_scores() for it'
        )
    num = g.num_values
    true = matched.gt_labels[:, lsl.start]
    pred = matched.dt_labels[:, lsl.start]
    true = np.where(true == UNKNOWN, num, true)
    pred = np.where(pred == UNKNOWN, num, pred)
    counts = np.bincount(true * (num + 1) + pred, minlength=(num + 1) ** 2)
    return dict(
        counts=counts.reshape(num + 1, num + 1).astype(np.int64),
        rows=list(g.values) + [UNKNOWN_NAME],
        cols=list(g.values) + [NONE_NAME],
    )


def attr_value_scores(
    ev: AttrCOCOeval, matched: MatchedAttributes, group: str
) -> Dict[str, np.ndarray]:
    """Per-value precision, recall and F1 of a group over matched pairs.

    Pairs whose ground truth does not know the group are left out; a
    detection that predicts no value (unknown) predicts none of the values.
    A single-label group is taken one value against the rest. The F1 is
    :func:`~.attr_coco_eval.value_f1`'s, as in
    :func:`~.attr_coco_eval.macro_f1`: the mean of the F1 of the values
    that occur is the group's macro F1.

    Args:
        ev (AttrCOCOeval): The evaluation.
        matched (MatchedAttributes): Its matched pairs.
        group (str): Any group.

    Returns:
        dict: ``values`` (list of V names); ``tp``, ``fp``, ``fn``,
        ``support`` (V,) int64 (support: ground truths with the value);
        ``precision``, ``recall``, ``f1`` (V,) float, NaN where undefined
        (no prediction, no positive, neither).
    """
    g, lsl = _group(ev, group)
    known = matched.gt_labels[:, lsl.start] != UNKNOWN
    true = value_hot(g, matched.gt_labels[known][:, lsl])
    pred = value_hot(g, matched.dt_labels[known][:, lsl])
    tp, fp, fn, f1 = value_f1(pred, true)
    with np.errstate(invalid='ignore', divide='ignore'):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
    return dict(
        values=list(g.values),
        tp=tp.astype(np.int64),
        fp=fp.astype(np.int64),
        fn=fn.astype(np.int64),
        support=true.sum(0).astype(np.int64),
        precision=precision,
        recall=recall,
        f1=f1,
    )


def _value_text(g: AttributeGroup, cols: np.ndarray, hot: np.ndarray) -> str:
    """Value name(s) of one group's label columns ``cols`` whose values
    are ``hot`` (V,): ``?`` if unknown, ``-`` for an empty multi-label set,
    ``a;b`` for several values."""
    if cols[0] == UNKNOWN:
        return '?'
    return ';'.join(v for v, h in zip(g.values, hot) if h) or '-'


def attribute_errors(
    ev: AttrCOCOeval, matched: Optional[MatchedAttributes] = None
) -> List[dict]:
    """The wrong attributes of located objects, one row per (pair, group).

    An object is located when its detection is one of the matched pairs of
    :func:`matched_attributes`. A group is wrong when the ground truth
    knows it and the prediction differs: another value (or none) for a
    single-label group, another set of values for a multi-label group (the
    attribute-aware AP is more lenient there: it accepts an F1 of at least
    ``attr_f1_thr``; ``f1`` in the row gives it).

    Args:
        ev (AttrCOCOeval): The evaluation.
        matched (MatchedAttributes, optional): Its matched pairs; computed
            if not given.

    Returns:
        list[dict]: Rows with ``image_id``, ``file_name``,
        ``annotation_id``, ``result_id``, ``category``, ``group``,
        ``true``, ``predicted``, ``score`` (detection score),
        ``value_score`` (probability of the predicted value(s), ``;``
        separated) and ``f1`` (multi-label groups, else empty), sorted by
        image id, annotation id and group order.
    """
    if matched is None:
        matched = matched_attributes(ev)
    cats, imgs = ev.cocoGt.cats, ev.cocoGt.imgs
    rows = []
    for g, lsl, ssl in zip(
        ev.spec, ev.spec.label_slices.values(), ev.spec.score_slices.values()
    ):
        true = matched.gt_labels[:, lsl]
        pred = matched.dt_labels[:, lsl]
        true_hot, pred_hot = value_hot(g, true), value_hot(g, pred)
        wrong = (true[:, 0] != UNKNOWN) & np.any(pred != true, axis=1)
        f1 = multilabel_f1(pred, true) if g.multi_label else None
        for p in np.nonzero(wrong)[0]:
            probs = matched.dt_probs[p, ssl][pred_hot[p]]
            img_id = int(matched.image_ids[p])
            rows.append(
                dict(
                    image_id=img_id,
                    file_name=imgs[img_id].get('file_name', ''),
                    annotation_id=int(matched.gt_ids[p]),
                    result_id=int(matched.result_ids[p]),
                    category=cats[int(matched.category_ids[p])]['name'],
                    group=g.name,
                    true=_value_text(g, true[p], true_hot[p]),
                    predicted=_value_text(g, pred[p], pred_hot[p]),
                    score=round(float(matched.scores[p]), 4),
                    value_score=';'.join(f'{float(v):.4f}' for v in probs),
                    f1='' if f1 is None else round(float(f1[p]), 4),
                )
            )
    order = {name: i for i, name in enumerate(ev.spec.names)}
    rows.sort(
        key=lambda r: (r['image_id'], r['annotation_id'], order[r['group']])
    )
    return rows


def worst_images(
    errors: Sequence[dict], num: Optional[int] = None
) -> List[Tuple[int, int]]:
    """Images with the most attribute errors.

    Args:
        errors (Sequence[dict]): Rows of :func:`attribute_errors`.
        num (int, optional): How many; all images with an error if None.

    Returns:
        list[tuple[int, int]]: ``(image_id, number of errors)``, most
        errors first, then by image id.
    """
    counts = Counter(r['image_id'] for r in errors)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked if num is None else ranked[:num]


def pair_pr_curves(
    ev: AttrCOCOeval, group: str, iou_thr: float = 0.5
) -> Dict[str, np.ndarray]:
    """Precision-recall curves of a group's (category, value) pair classes.

    They are ``ev.attr_eval['pair_precision']`` at one IoU threshold:
    COCO's interpolated precision at the recall thresholds
    ``params.recThrs``, at area "all" and ``maxDets[-1]``.

    Args:
        ev (AttrCOCOeval): After :meth:`~AttrCOCOeval.accumulate`.
        group (str): Attribute group.
        iou_thr (float): One of ``params.iouThrs``. Defaults to 0.5.

    Returns:
        dict: ``recall`` (R,); ``precision`` (K, V, R) with NaN for pairs
        without ground truth; ``mean`` (V, R) mean over the categories that
        have the pair (NaN if none); ``categories`` (K names); ``values``
        (V names).
    """
    if 'pair_precision' not in ev.attr_eval:
        raise ValueError('run AttrCOCOeval.accumulate() before the analysis')
    g = _group(ev, group)[0]
    t = ev.iou_index(iou_thr)
    pair = ev.attr_eval['pair_precision'][t]  # (R, K x S)
    precision = pair[:, ev.group_pair_classes(group)].transpose(1, 2, 0)
    precision[precision < 0] = np.nan  # (K, V, R)
    valid = ~np.isnan(precision)
    with np.errstate(invalid='ignore'):
        mean = np.nansum(precision, axis=0) / valid.sum(0)
    mean[valid.sum(0) == 0] = np.nan
    return dict(
        recall=np.asarray(ev.params.recThrs, dtype=np.float64),
        precision=precision,
        mean=mean,
        categories=[ev.cocoGt.cats[c]['name'] for c in ev.params.catIds],
        values=list(g.values),
    )


def pair_value_ap(ev: AttrCOCOeval) -> 'OrderedDict[Tuple[str, str], float]':
    """Object-attribute AP of every attribute value, over categories.

    For value ``s``: COCO's mean of the valid entries of
    ``pair_precision[:, :, classes of s]`` (all IoU thresholds, all recall
    thresholds, every category that has a ground truth with the value), by
    :meth:`~AttrCOCOeval.pair_mean_ap`, which averages ``<group>_pair_mAP``
    over the values of a group.

    Args:
        ev (AttrCOCOeval): After :meth:`~AttrCOCOeval.accumulate`.

    Returns:
        OrderedDict: ``{(group, value): AP}`` in declaration order; values
        without any ground truth are left out.
    """
    if 'pair_precision' not in ev.attr_eval:
        raise ValueError('run AttrCOCOeval.accumulate() before the analysis')
    out: 'OrderedDict[Tuple[str, str], float]' = OrderedDict()
    for g in ev.spec:
        classes = ev.group_pair_classes(g.name)  # (K, V)
        for v, name in enumerate(g.values):
            ap = ev.pair_mean_ap(classes=classes[:, v])
            if ap != -1:  # the value has a positive in some category
                out[(g.name, name)] = ap
    return out
