"""COCO's precision accumulation over flat detection arrays.

``COCOeval.accumulate`` walks per-image records and interpolates precision
in a Python loop over every detection. :func:`coco_precision` computes the
same numbers, bit for bit, from flat arrays for all classes at once (one
area range, one ``maxDet``):

* per class, detections are ranked by score (stable: image order, then
  matching order within the image, as pycocotools' concatenation and
  merge sort give);
* ``recall = TP / npig`` and ``precision = TP / (TP + FP + eps)`` on the
  cumulative counts; precision is made non-increasing from the right and
  read at the recall thresholds (0 beyond the last recall reached);
* a class without non-ignored ground truth keeps precision -1.

Only classes with a positive cost anything: :func:`coco_precision_sparse`
ranks their detections alone and returns their precision columns; the
others are -1 without being looked at. Classes are processed in chunks of
at most ``chunk`` detections, so that the cumulative counts (T, chunk) stay
small whatever the number of classes.

When most detections of a class are false positives, as in the
object-attribute classes where every detection of a category competes for
every value, :func:`coco_precision_counted` needs only the true positives
and the number of false positives ranked before each of them: the
interpolated precision read at the recall thresholds is attained at true
positives (see its docstring), so the other detections need no ranking.

:func:`summarize_ap` is the summary of every protocol (COCO's mean of
the valid precisions), with the two rules in which they differ as
arguments.

The tests compare them with ``COCOeval.accumulate`` on random records.
"""

from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple

import numpy as np


def coco_precision_sparse(
    det_class: np.ndarray,
    det_img: np.ndarray,
    det_rank: np.ndarray,
    det_score: np.ndarray,
    det_tp: np.ndarray,
    det_fp: np.ndarray,
    num_pos: np.ndarray,
    rec_thrs: Sequence[float],
    chunk: int = 1 << 19,
) -> Tuple[np.ndarray, np.ndarray]:
    """Interpolated precision of the classes that have a positive.

    Args:
        det_class (np.ndarray): (N,) class of each detection, in
            ``[0, K)``.
        det_img (np.ndarray): (N,) image index (order of ``imgIds``).
        det_rank (np.ndarray): (N,) rank in its (image, class) matching.
        det_score (np.ndarray): (N,) score.
        det_tp (np.ndarray): (T, N) bool, true positive at each threshold.
        det_fp (np.ndarray): (T, N) bool, false positive (neither flag:
            ignored).
        num_pos (np.ndarray): (K,) number of non-ignored ground truths.
        rec_thrs (Sequence[float]): (R,) recall thresholds.
        chunk (int): Detections processed at once (several classes, or
            one whole class). Defaults to 2**19.

    Returns:
        tuple[np.ndarray, np.ndarray]: (A,) ascending indices of the
        classes with ``num_pos > 0`` and their (T, R, A) precision (the
        columns of :func:`coco_precision`; the other classes are -1).
    """
    rec_thrs = np.asarray(rec_thrs, dtype=np.float64)
    num_thrs = det_tp.shape[0]
    classes = np.nonzero(num_pos > 0)[0]
    precision = np.zeros((num_thrs, len(rec_thrs), len(classes)))
    # a class without true positive has precision 0 everywhere (recall
    # stays 0): its detections need no ranking either
    has_tp = np.zeros(len(num_pos), dtype=bool)
    has_tp[det_class[det_tp.any(axis=0)]] = True
    keep = np.nonzero((has_tp & (num_pos > 0))[det_class])[0]
    if len(classes) == 0 or len(keep) == 0:
        return classes, precision
    # stable: among equal keys the input order, as over all detections
    order = keep[
        np.lexsort(
            (
                det_rank[keep],
                det_img[keep],
                -det_score[keep],
                det_class[keep],
            )
        )
    ]
    sorted_class = det_class[order]
    starts = np.searchsorted(sorted_class, classes, side='left')
    ends = np.searchsorted(sorted_class, classes, side='right')
    a = 0
    while a < len(classes):
        # classes [a, b) whose detections fit in one chunk (at least one)
        b = int(np.searchsorted(ends, starts[a] + chunk, side='right'))
        b = max(b, a + 1)
        lo, hi = int(starts[a]), int(ends[b - 1])
        sel = order[lo:hi]
        zero = np.zeros((num_thrs, 1), dtype=np.int64)
        # integer cumulative counts; a class's counts are differences
        tp_sum = np.concatenate(
            [zero, np.cumsum(det_tp[:, sel], axis=1, dtype=np.int64)], axis=1
        )
        fp_sum = np.concatenate(
            [zero, np.cumsum(det_fp[:, sel], axis=1, dtype=np.int64)], axis=1
        )
        for n in range(a, b):
            start, end = int(starts[n]) - lo, int(ends[n]) - lo
            if end == start:
                continue  # no true positive (see above): precision 0
            tp = (
                tp_sum[:, start + 1 : end + 1] - tp_sum[:, start : start + 1]
            ).astype(float)
            fp = (
                fp_sum[:, start + 1 : end + 1] - fp_sum[:, start : start + 1]
            ).astype(float)
            recall = tp / num_pos[classes[n]]
            prec = tp / (fp + tp + np.spacing(1))
            # max over the precisions at this rank and every later one
            prec = np.maximum.accumulate(prec[:, ::-1], axis=1)[:, ::-1]
            for t in range(num_thrs):
                inds = np.searchsorted(recall[t], rec_thrs, side='left')
                inside = inds < end - start
                precision[t, inside, n] = prec[t, inds[inside]]
        a = b
    return classes, precision


def dense_precision(
    classes: np.ndarray, precision: np.ndarray, num_classes: int
) -> np.ndarray:
    """(T, R, K) precision from the (T, R, A) columns of the classes
    ``classes`` (A,); the other classes are -1."""
    dense = -np.ones(precision.shape[:2] + (num_classes,))
    dense[:, :, classes] = precision
    return dense


def coco_precision(num_classes: int, *args, **kwargs) -> np.ndarray:
    """Interpolated precision of every class, as ``COCOeval.accumulate``.

    Args:
        num_classes (int): Number of classes ``K``.
        *args, **kwargs: The arguments of :func:`coco_precision_sparse`.

    Returns:
        np.ndarray: (T, R, K) precision, -1 for classes with no positive.
    """
    classes, precision = coco_precision_sparse(*args, **kwargs)
    return dense_precision(classes, precision, num_classes)


def flatten_records(
    records: Sequence[dict], max_det: Optional[int] = None
) -> Tuple[np.ndarray, ...]:
    """COCOeval's per-cell records as the flat detection arrays of
    :func:`coco_precision_sparse`.

    Args:
        records (Sequence[dict]): Records with ``dtScores`` (D,) and
            ``dtMatches``, ``dtIgnore`` (..., D), detections by score.
        max_det (int, optional): Detections kept per record (the first
            ones). Defaults to all.

    Returns:
        tuple[np.ndarray]: (N,) index of the record and (N,) rank in it
        of every detection, (N,) score, (..., N) bool ``tp`` (matched, not
        ignored) and ``fp`` (unmatched, not ignored), as ``accumulate``.
    """
    kept = [len(e['dtScores'][:max_det]) for e in records]
    matches, ignore = (
        np.concatenate([e[key][..., :max_det] for e in records], axis=-1)
        for key in ('dtMatches', 'dtIgnore')
    )
    return (
        np.repeat(np.arange(len(records)), kept),
        np.concatenate([np.arange(n) for n in kept]),
        np.concatenate([e['dtScores'][:max_det] for e in records]),
        (matches != 0) & ~ignore,
        (matches == 0) & ~ignore,
    )


def _first_reaching(num_pos: np.ndarray, rec_thrs: np.ndarray) -> np.ndarray:
    """(A, R) smallest ``j >= 1`` with ``j / num_pos >= r`` in floating
    point, as ``COCOeval.accumulate`` compares its recall."""
    npig = num_pos[:, None]
    j = np.maximum(np.ceil(rec_thrs[None, :] * npig), 1).astype(np.int64)
    while True:  # correct the rounding of the estimate
        lower = (j > 1) & ((j - 1) / npig >= rec_thrs[None, :])
        higher = j / npig < rec_thrs[None, :]
        if not (lower.any() or higher.any()):
            return j
        j = j - lower + higher


def coco_precision_counted(
    num_pos: np.ndarray,
    tp_thr: np.ndarray,
    tp_class: np.ndarray,
    tp_fp_before: np.ndarray,
    num_thrs: int,
    rec_thrs: Sequence[float],
) -> np.ndarray:
    """Interpolated precision from the true positives only.

    ``COCOeval.accumulate`` ranks all detections of a class, takes
    ``recall = TP / npig`` and ``precision = TP / (TP + FP + eps)`` at every
    rank, makes precision non-increasing from the right and reads it at
    the first rank whose recall reaches each threshold. Recall only grows
    at true positives, and between two true positives precision only falls
    (same TP, more FP; ignored detections repeat the previous rank), so:

    * the first rank reaching a recall threshold ``r > 0`` is a true
      positive, the ``j``-th with ``j / npig >= r``;
    * the running maximum from the right at a true positive is the maximum
      over that true positive and the later ones;
    * at ``r <= 0`` it is read at the first rank: the maximum over all
      true positives, or 0 when there is none.

    The cumulative counts at the ``j``-th true positive are ``TP = j`` and
    ``FP`` = the false positives ranked before it, so these two numbers
    per true positive give the same floats as the ranking of every
    detection.

    Args:
        num_pos (np.ndarray): (A,) number of non-ignored ground truths of
            each class, all > 0.
        tp_thr (np.ndarray): (N,) IoU threshold index of each true
            positive (one entry per threshold at which it is one).
        tp_class (np.ndarray): (N,) class (index into ``num_pos``) of each
            true positive; entries sorted by threshold, class, rank.
        tp_fp_before (np.ndarray): (N,) false positives of the class
            ranked before each true positive, at its threshold.
        num_thrs (int): Number of IoU thresholds ``T``.
        rec_thrs (Sequence[float]): (R,) recall thresholds.

    Returns:
        np.ndarray: (T, R, A) precision; 0 for classes without true
        positive.
    """
    rec_thrs = np.asarray(rec_thrs, dtype=np.float64)
    num_classes = len(num_pos)
    precision = np.zeros((num_thrs, len(rec_thrs), num_classes))
    if len(tp_class) == 0:
        return precision
    # segment of a true positive: (threshold, class)
    seg = np.asarray(tp_thr) * num_classes + tp_class
    num_segs = num_thrs * num_classes
    starts = np.searchsorted(seg, np.arange(num_segs), side='left')
    counts = np.bincount(seg, minlength=num_segs)
    # TP and FP counts at each true positive, as accumulate's cumsums
    tp = (np.arange(len(seg)) - starts[seg] + 1).astype(float)
    fp = np.asarray(tp_fp_before).astype(float)
    prec = tp / (fp + tp + np.spacing(1))
    # running maximum from the right within each segment: maximum over
    # (segment from the end, precision rank) as one integer key
    values, rank = np.unique(prec, return_inverse=True)
    back = (num_segs - 1 - seg)[::-1]
    key = back * len(values) + rank.ravel()[::-1]
    envelope = values[(np.maximum.accumulate(key) - back * len(values))[::-1]]
    first = _first_reaching(num_pos, rec_thrs)  # (A, R)
    thr, cls = np.divmod(np.nonzero(counts)[0], num_classes)
    for t in np.unique(thr):
        k = cls[thr == t]
        j = first[k]  # (n, R)
        inside = j <= counts[t * num_classes + k][:, None]
        row, r = np.nonzero(inside)
        precision[t, r, k[row]] = envelope[
            starts[t * num_classes + k[row]] + j[row, r] - 1
        ]
    return precision


#: COCO's six AP summaries as ``(name, IoU threshold or None for all,
#: area range label)``: ``AP``, ``AP50``, ``AP75``, ``APs``, ``APm``, ``APl``.
COCO_AP_SUMMARY = (
    ('AP', None, 'all'), ('AP50', 0.5, 'all'), ('AP75', 0.75, 'all'),
    ('APs', None, 'small'), ('APm', None, 'medium'), ('APl', None, 'large'),
)  # fmt: skip


def summarize_ap(
    precision: np.ndarray,
    iou_thrs: Optional[Sequence[float]] = None,
    iou_thr: Optional[float] = None,
    exact: bool = True,
    empty: float = -1.0,
) -> float:
    """COCO's summary of a precision array: the mean of its valid entries
    (> -1; NaN is not valid) at one IoU threshold or all of them.

    The protocols differ in two rules, which the caller states:

    * ``exact``: the row of ``iou_thr`` is the one equal to it (``==``,
      as ``COCOeval.summarize``, LVIS and FPEval) or the one close to it
      (``np.isclose``, this project's metrics); no such row selects
      nothing;
    * ``empty``: the value when nothing is valid, -1 (``COCOeval``) or NaN
      (PACO's ``get_AP_from_precisions``, this project's tables).

    Args:
        precision (np.ndarray): (T, ...) precision, IoU thresholds first.
        iou_thrs (Sequence[float], optional): (T,) the IoU thresholds,
            needed with ``iou_thr`` (one of them; None: every row).
    """
    if iou_thr is not None:
        thrs = np.asarray(iou_thrs)
        rows = thrs == iou_thr if exact else np.isclose(thrs, iou_thr)
        precision = precision[np.nonzero(rows)[0]]
    valid = precision[precision > -1]
    return float(np.mean(valid)) if valid.size else empty


def coco_ap_summary(mean_ap) -> Dict[str, float]:
    """:data:`COCO_AP_SUMMARY` of ``mean_ap(iou_thr, area)``, in order."""
    return OrderedDict(
        (key, mean_ap(thr, area)) for key, thr, area in COCO_AP_SUMMARY
    )


def f1_from_counts(tp, fp, fn, empty: float = 0.0) -> np.ndarray:
    """``F1 = 2 TP / (2 TP + FP + FN)`` of integer counts (any shape), and
    ``empty`` where the denominator is 0 (nothing predicted or true)."""
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), empty)
