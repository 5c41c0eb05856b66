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

The tests compare it with ``COCOeval.accumulate`` on random records.
"""

from typing import Sequence

import numpy as np


def coco_precision(
    num_classes: int,
    det_class: np.ndarray,
    det_img: np.ndarray,
    det_rank: np.ndarray,
    det_score: np.ndarray,
    det_tp: np.ndarray,
    det_fp: np.ndarray,
    num_pos: np.ndarray,
    rec_thrs: Sequence[float],
) -> np.ndarray:
    """Interpolated precision of every class, as ``COCOeval.accumulate``.

    Args:
        num_classes (int): Number of classes ``K``.
        det_class (np.ndarray): (N,) class of each detection.
        det_img (np.ndarray): (N,) image index (order of ``imgIds``).
        det_rank (np.ndarray): (N,) rank in its (image, class) matching.
        det_score (np.ndarray): (N,) score.
        det_tp (np.ndarray): (T, N) bool, true positive at each threshold.
        det_fp (np.ndarray): (T, N) bool, false positive (neither flag:
            ignored).
        num_pos (np.ndarray): (K,) number of non-ignored ground truths.
        rec_thrs (Sequence[float]): (R,) recall thresholds.

    Returns:
        np.ndarray: (T, R, K) precision, -1 for classes with no positive.
    """
    rec_thrs = np.asarray(rec_thrs, dtype=np.float64)
    num_thrs = det_tp.shape[0]
    precision = -np.ones((num_thrs, len(rec_thrs), num_classes))
    order = np.lexsort((det_rank, det_img, -det_score, det_class))
    bounds = np.searchsorted(det_class[order], np.arange(num_classes + 1))
    # integer cumulative counts; a class's counts are differences
    tp_sum = np.cumsum(det_tp[:, order], axis=1)
    fp_sum = np.cumsum(det_fp[:, order], axis=1)
    zero = np.zeros((num_thrs, 1), dtype=tp_sum.dtype)
    tp_sum = np.concatenate([zero, tp_sum], axis=1)  # (T, N + 1)
    fp_sum = np.concatenate([zero, fp_sum], axis=1)
    for k in np.nonzero(num_pos > 0)[0]:
        start, end = bounds[k], bounds[k + 1]
        tp = (
            tp_sum[:, start + 1 : end + 1] - tp_sum[:, start : start + 1]
        ).astype(float)
        fp = (
            fp_sum[:, start + 1 : end + 1] - fp_sum[:, start : start + 1]
        ).astype(float)
        recall = tp / num_pos[k]
        prec = tp / (fp + tp + np.spacing(1))
        # max over the precisions at this rank and every later one
        prec = np.maximum.accumulate(prec[:, ::-1], axis=1)[:, ::-1]
        for t in range(num_thrs):
            inds = np.searchsorted(recall[t], rec_thrs, side='left')
            inside = inds < end - start
            precision[t, :, k] = 0
            precision[t, inside, k] = prec[t, inds[inside]]
    return precision
