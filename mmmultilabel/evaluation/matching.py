"""COCO's greedy detection-to-ground-truth matching, batched with numpy.

pycocotools' ``COCOeval.evaluateImg`` matches one (image, category) cell at
a time in three nested Python loops (threshold, detection, ground truth).
The attribute evaluations in :mod:`.attr_coco_eval` match many more cells
(one per attribute value), so they use :func:`greedy_match`, which makes
exactly the same choices with one Python iteration per detection *rank*
for a whole batch of cells:

* detections are taken in the given order (highest score first);
* a detection takes, among the ground truths that are still free and whose
  IoU is at least the threshold, the one with the largest IoU; ties go to
  the ground truth that comes last;
* ground truths flagged *ignore* are only considered when no regular
  ground truth qualifies; a match to one marks the detection as ignored;
* crowd ground truths stay free after a match, others are taken once.

The tests compare it with ``COCOeval.evaluateImg`` on random cells.

Cells are given in a *ragged* layout: cell ``c`` owns ``num_dets[c]``
detections and ``num_gts[c]`` ground truths, stored one cell after the
other in flat arrays; its IoU block is ``num_dets[c] x num_gts[c]``,
row-major.
"""

from typing import Optional, Sequence

import numpy as np

# IoU given to (detection, ground truth) pairs that must never match:
# below every threshold in [0, 1].
NO_MATCH_IOU = -1.0


def ragged_starts(sizes: np.ndarray) -> np.ndarray:
    """Start offset of every cell in a flat array.

    Args:
        sizes (np.ndarray): (C,) number of entries of each cell.

    Returns:
        np.ndarray: (C,) exclusive cumulative sum of ``sizes``.
    """
    starts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    return starts


def greedy_match(
    ious: np.ndarray,
    num_dets: np.ndarray,
    gt_ignore: np.ndarray,
    gt_crowd: np.ndarray,
    iou_thrs: Sequence[float],
) -> np.ndarray:
    """Match a batch of cells that have the same number of ground truths.

    Args:
        ious (np.ndarray): (N, Dmax, G) IoU between the d-th detection of a
            cell (in matching order) and each of its ground truths. Rows at
            or after ``num_dets[n]`` are ignored.
        num_dets (np.ndarray): (N,) number of detections of each cell.
        gt_ignore (np.ndarray): (N, G) bool, ground truth to ignore (crowd,
            outside the area range, or unknown attribute).
        gt_crowd (np.ndarray): (N, G) bool, crowd ground truth (may match
            several detections).
        iou_thrs (Sequence[float]): (T,) IoU thresholds.

    Returns:
        np.ndarray: (N, T, Dmax) int64, index of the ground truth that the
        detection matched at each threshold, or -1.
    """
    num, dmax, num_gts = ious.shape
    thrs = np.minimum(np.asarray(iou_thrs, dtype=np.float64), 1 - 1e-10)
    # Cells with most detections first, so that the cells still active at
    # rank r are a prefix of the batch.
    order = np.argsort(-num_dets, kind='stable')
    ious = ious[order]
    gt_ignore = gt_ignore[order]
    gt_crowd = gt_crowd[order]
    num_dets = num_dets[order]

    taken = np.zeros((num, len(thrs), num_gts), dtype=bool)
    match = np.full((num, len(thrs), dmax), -1, dtype=np.int64)
    for rank in range(dmax):
        active = int(np.count_nonzero(num_dets > rank))
        cand = ious[:active, rank, None, :]  # (n, 1, G)
        ok = (cand >= thrs[None, :, None]) & ~taken[:active]  # (n, T, G)
        regular = ok & ~gt_ignore[:active, None, :]
        allowed = np.where(regular.any(-1, keepdims=True), regular, ok)
        found = allowed.any(-1)  # (n, T)
        values = np.where(allowed, cand, -np.inf)
        # last ground truth among the best ones: argmax of the reversal
        best = num_gts - 1 - np.argmax(values[..., ::-1], axis=-1)
        match[:active, :, rank] = np.where(found, best, -1)
        cell, thr = np.nonzero(found)
        gt = best[cell, thr]
        taken[cell, thr, gt] = ~gt_crowd[cell, gt]
    out = np.empty_like(match)
    out[order] = match
    return out


def match_ragged(
    num_dets: np.ndarray,
    num_gts: np.ndarray,
    ious: np.ndarray,
    gt_ignore: np.ndarray,
    gt_crowd: np.ndarray,
    iou_thrs: Sequence[float],
    active: Optional[np.ndarray] = None,
) -> np.ndarray:
    """Greedy matching of every cell of a ragged layout.

    Cells are batched by their number of ground truths so that padding only
    happens along the detections.

    Args:
        num_dets (np.ndarray): (C,) detections per cell.
        num_gts (np.ndarray): (C,) ground truths per cell.
        ious (np.ndarray): (sum(num_dets * num_gts),) IoU blocks, row-major,
            one cell after the other; rows in matching order.
        gt_ignore (np.ndarray): (sum(num_gts),) bool, ignore flags.
        gt_crowd (np.ndarray): (sum(num_gts),) bool, crowd flags.
        iou_thrs (Sequence[float]): (T,) IoU thresholds.
        active (np.ndarray, optional): (C,) bool, cells to match; the
            others are known to match nothing (every IoU below the
            thresholds). Defaults to all cells.

    Returns:
        np.ndarray: (T, sum(num_dets)) int64, for every detection the index
        (within its cell) of the matched ground truth, or -1.
    """
    num_dets = np.asarray(num_dets, dtype=np.int64)
    num_gts = np.asarray(num_gts, dtype=np.int64)
    det_start = ragged_starts(num_dets)
    gt_start = ragged_starts(num_gts)
    pair_start = ragged_starts(num_dets * num_gts)
    out = np.full((len(iou_thrs), int(num_dets.sum())), -1, dtype=np.int64)
    busy = (num_dets > 0) & (num_gts > 0)
    if active is not None:
        busy &= active
    for size in np.unique(num_gts[busy]):
        cells = np.nonzero(busy & (num_gts == size))[0]
        nd = num_dets[cells]
        rank = np.arange(nd.max())
        valid = rank[None, :] < nd[:, None]  # (n, Dmax)
        col = np.arange(size)
        # (n, Dmax, G) flat positions; padded rows read entry 0, unused
        src = (
            pair_start[cells][:, None, None]
            + rank[None, :, None] * size
            + col[None, None, :]
        )
        block = ious[np.where(valid[..., None], src, 0)]
        gts = gt_start[cells][:, None] + col[None, :]  # (n, G)
        match = greedy_match(
            block, nd, gt_ignore[gts], gt_crowd[gts], iou_thrs
        )  # (n, T, Dmax)
        dets = det_start[cells][:, None] + rank[None, :]  # (n, Dmax)
        out[:, dets[valid]] = match.transpose(1, 0, 2)[:, valid]
    return out


def ignored_last(gts: Sequence[dict], a_rng: Sequence[float]):
    """COCOeval's ground-truth order of a cell: ``ignore`` or outside the
    area range ``a_rng`` last (stable).

    Returns:
        tuple[np.ndarray, np.ndarray]: (G,) order and (G,) bool ignore
        flags in that order.
    """
    ignore = np.array(
        [
            bool(g['ignore']) or g['area'] < a_rng[0] or g['area'] > a_rng[1]
            for g in gts
        ],
        dtype=bool,
    )
    order = np.argsort(ignore, kind='mergesort')
    return order, ignore[order]


def match_records(
    match: np.ndarray,
    gts: Sequence[dict],
    gt_ignore: np.ndarray,
    dts: Sequence[dict],
    a_rng: Sequence[float],
):
    """COCOeval's ``dtMatches`` and ``dtIgnore`` from matched indices.

    Args:
        match (np.ndarray): (..., D) index of the matched ground truth (in
            the order of ``gts``) or -1.
        gts (Sequence[dict]): (G,) ground truths, ignored ones last.
        gt_ignore (np.ndarray): (G,) bool.
        dts (Sequence[dict]): (D,) detections.
        a_rng (Sequence[float]): The area range.

    Returns:
        tuple[np.ndarray, np.ndarray]: (..., D) matched ground-truth id
        (float, 0 if unmatched) and bool ignore flags: matched to an
        ignored ground truth, or unmatched (a ground truth with id 0
        counts as unmatched, as in COCOeval) and outside the area range.
    """
    gt_ids = np.array([g['id'] for g in gts] + [0], dtype=float)
    dtm = gt_ids[match]  # -1 reads the trailing 0: unmatched
    dt_ig = (match >= 0) & np.append(gt_ignore, False)[match]
    areas = np.array([d['area'] for d in dts], dtype=float)
    dt_ig |= (dtm == 0) & ((areas < a_rng[0]) | (areas > a_rng[1]))
    return dtm, dt_ig
