"""Object-attribute AP: precision of the (category, value) pair classes.

Pair class ``(k, s)`` has as positives the regular ground truths of
category ``k`` that have value ``s``; every detection of category ``k``
competes in it with score ``score x probability of s`` (see
:class:`.AttrCOCOeval`). With hundreds of values, ranking every detection
in every class of its category would scale with detections x values, so
:func:`value_pair_precision` only does what can change a number:

* classes without positive have precision -1 whatever the detections:
  they are left out (not even counted per image);
* a detection can only match in a *pair cell* (image, category, value)
  that has a ground truth with the value or with the group unknown: only
  those pair cells are matched; every other detection of a class with a
  positive is a false positive there (ignored if outside the area range);
* the precision of a class needs, at each true positive, only the number
  of false positives ranked before it (:func:`.coco_precision_counted`):
  those are counted, with the order COCOeval gives (pair score down, then
  image, then result order), against the scores of the category's
  detections, without sorting them.

This is what keeps the ``attr`` protocol within its time and memory
targets at Fashionpedia and PACO size
(``tools/analysis_tools/bench_metric_scale.py``).

The tests compare the result with pycocotools run on the pair classes as
plain categories. The helpers on ragged cells (:func:`ragged_index`,
:func:`block_entries`, :func:`match_flags`) serve the attribute-aware
matching of :class:`.AttrCOCOeval` as well.
"""

from typing import Dict, Sequence, Tuple

import numpy as np

from ..accumulate import coco_precision_counted
from ..matching import NO_MATCH_IOU, match_ragged, ragged_starts


def ragged_index(sizes: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Cell and position within the cell of every entry of a ragged
    layout whose cells have ``sizes`` (C,) entries: two (sum(sizes),)
    arrays."""
    cell = np.repeat(np.arange(len(sizes)), sizes)
    return cell, np.arange(len(cell)) - ragged_starts(sizes)[cell]


def block_entries(
    num_dets: np.ndarray, num_gts: np.ndarray
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell, row (detection) and column (ground truth) of every entry of
    the ragged ``num_dets x num_gts`` IoU blocks (row-major, one cell
    after the other)."""
    cell, offset = ragged_index(num_dets * num_gts)
    width = num_gts[cell]  # >= 1: a cell without ground truth has no entry
    return cell, offset // width, offset % width


def match_flags(
    match: np.ndarray,
    det_gt_start: np.ndarray,
    gt_ignore: np.ndarray,
    det_out: np.ndarray,
) -> Tuple[np.ndarray, np.ndarray]:
    """True / false positive flags of matched detections, as COCOeval.

    A detection matched to an ignored ground truth, or unmatched and
    outside the area range, is neither (COCO's ``dtIgnore``).

    Args:
        match (np.ndarray): (T, N) ground truth matched by each detection
            (index in its cell), or -1.
        det_gt_start (np.ndarray): (N,) flat index of the first ground
            truth of each detection's cell.
        gt_ignore (np.ndarray): (G,) bool ignore flags, flat.
        det_out (np.ndarray): (N,) bool, detection outside the area range.

    Returns:
        tuple[np.ndarray, np.ndarray]: (T, N) bool ``tp`` and ``fp``.
    """
    matched = match >= 0
    ignored = ~matched & det_out[None, :]
    if matched.any():  # (no ground truth at all: nothing to look up)
        hit = np.where(matched, match + det_gt_start, 0)
        ignored |= matched & gt_ignore[hit]
    return matched & ~ignored, ~matched & ~ignored


def _pair_score(
    cells: Dict[str, np.ndarray],
    dt_probs: np.ndarray,
    pos: np.ndarray,
    val: np.ndarray,
) -> np.ndarray:
    """Pair score ``score x probability of val`` of the detections at
    ``pos`` (positions in the cells' detection arrays; broadcast with
    ``val``)."""
    return cells['det_scores'][pos] * dt_probs[cells['det_rows'][pos], val]


def _match_pair_cells(
    cells: Dict[str, np.ndarray],
    pair_cell: np.ndarray,
    pair_val: np.ndarray,
    dt_probs: np.ndarray,
    positive: np.ndarray,
    unknown: np.ndarray,
    iou_thrs: Sequence[float],
) -> Tuple[np.ndarray, ...]:
    """COCO's matching in the given (cell, value) pair cells.

    Pair cell ``(c, s)`` holds the detections of cell ``c`` re-ranked by
    ``score x probability of s`` (ties in result order) and all its ground
    truths: those with value ``s`` are regular, those whose group is
    unknown are ignored, those with another value can never match.

    Args:
        pair_cell (np.ndarray): (U,) cell of each pair cell.
        pair_val (np.ndarray): (U,) value of each pair cell.
        others: As :func:`value_pair_precision`.

    Returns:
        tuple[np.ndarray]: per detection entry (E,), pair cell by pair cell
        in matching order: its pair cell (index into ``pair_cell``), its
        position in the cells' detection arrays, its pair score, and (T, E)
        bool ``tp``, ``fp`` (neither: ignored, as COCO's ``dtIgnore``).
    """
    c = cells
    nd, ng = c['nd'][pair_cell], c['ng'][pair_cell]
    # detections, re-ranked in each pair cell
    det_pair, rank = ragged_index(nd)
    pos = ragged_starts(c['nd'])[pair_cell][det_pair] + rank
    score = _pair_score(c, dt_probs, pos, pair_val[det_pair])
    order = np.lexsort((c['det_rows'][pos], -score, det_pair))
    pos, score, src_rank = pos[order], score[order], rank[order]
    # ground truths: ignored if unknown, never matched if another value
    gt_pair, gt_rank = ragged_index(ng)
    gpos = ragged_starts(c['ng'])[pair_cell][gt_pair] + gt_rank
    has = positive[gpos, pair_val[gt_pair]]
    unk = unknown[gpos, pair_val[gt_pair]]
    excluded = ~has & ~unk
    gt_ignore = c['gt_ignore'][gpos] | unk | excluded
    # IoU blocks with the rows in the new order, (nd x ng) per pair cell
    iou_pair, row, col = block_entries(nd, ng)
    src = (
        ragged_starts(c['nd'] * c['ng'])[pair_cell][iou_pair]
        + src_rank[ragged_starts(nd)[iou_pair] + row] * ng[iou_pair]
        + col
    )
    gt_start = ragged_starts(ng)
    ious = np.where(
        excluded[gt_start[iou_pair] + col], NO_MATCH_IOU, c['ious'][src]
    )
    match = match_ragged(
        nd, ng, ious, gt_ignore, c['gt_crowd'][gpos], iou_thrs
    )  # (T, E)
    tp, fp = match_flags(
        match, gt_start[det_pair], gt_ignore, c['det_out'][pos]
    )
    return det_pair, pos, score, tp, fp


def _count_before(
    cells: Dict[str, np.ndarray],
    dt_probs: np.ndarray,
    det_img: np.ndarray,
    dets: np.ndarray,
    pos: np.ndarray,
    val: np.ndarray,
    score: np.ndarray,
    block: int,
) -> np.ndarray:
    """Detections ``dets`` ranked before each query in its class.

    COCOeval ranks a class's detections by score (down), then image, then
    rank in the (image, class) matching, which is result order among equal
    pair scores of one image.

    Args:
        cells, dt_probs: As :func:`value_pair_precision`.
        det_img (np.ndarray): (sum nd,) image index of every detection.
        dets (np.ndarray): (D,) detections to count (positions in the
            cells' detection arrays), of the queries' category.
        pos (np.ndarray): (Q,) query detections (positions in the cells'
            detection arrays).
        val (np.ndarray): (Q,) value of each query's class.
        score (np.ndarray): (Q,) pair score of each query.
        block (int): (detection, query) comparisons made at once.

    Returns:
        np.ndarray: (Q,) int64 counts.
    """
    imgs, rows = det_img[dets], cells['det_rows'][dets]
    q_img, q_row = det_img[pos], cells['det_rows'][pos]
    out = np.zeros(len(pos), dtype=np.int64)
    step = max(1, block // max(1, len(dets)))
    for a in range(0, len(pos), step):
        b = min(a + step, len(pos))
        # (D, q) pair scores of the category's detections in each class
        pair = _pair_score(cells, dt_probs, dets[:, None], val[None, a:b])
        out[a:b] = np.count_nonzero(pair > score[None, a:b], axis=0)
        det, q = np.nonzero(pair == score[None, a:b])
        q_abs = q + a
        first = (imgs[det] < q_img[q_abs]) | (
            (imgs[det] == q_img[q_abs]) & (rows[det] < q_row[q_abs])
        )
        out[a:b] += np.bincount(q[first], minlength=b - a)
    return out


def value_pair_precision(
    cells: Dict[str, np.ndarray],
    dt_probs: np.ndarray,
    positive: np.ndarray,
    unknown: np.ndarray,
    iou_thrs: Sequence[float],
    rec_thrs: Sequence[float],
    block: int = 1 << 22,
) -> Tuple[np.ndarray, np.ndarray]:
    """Precision of the pair classes that have a positive.

    Args:
        cells (dict): The ragged (image, category) cells of
            :class:`.AttrCOCOeval`, category-major: ``k``, ``i``, ``nd``,
            ``ng`` (C,), ``det_rows``, ``det_scores``, ``det_out`` (sum
            nd,), ``gt_ignore``, ``gt_crowd`` (G = sum ng,), ``ious``.
        dt_probs (np.ndarray): (N, S) value probabilities by result row.
        positive (np.ndarray): (G, S) bool, ground truth has the value.
        unknown (np.ndarray): (G, S) bool, its group is unknown.
        iou_thrs (Sequence[float]): (T,) IoU thresholds.
        rec_thrs (Sequence[float]): (R,) recall thresholds.
        block (int): (detection, query) comparisons made at once when
            counting. Defaults to 2**22.

    Returns:
        tuple[np.ndarray, np.ndarray]: (A,) ascending class indices
        ``k * S + s`` with a positive and their (T, R, A) precision at area
        "all" and the cells' ``maxDet``.
    """
    c = cells
    num_vals = positive.shape[1]
    num_thrs, num_recs = len(iou_thrs), len(rec_thrs)
    empty = np.zeros(0, np.int64), np.zeros((num_thrs, num_recs, 0))
    if num_vals == 0 or len(c['nd']) == 0:
        return empty
    gt_cell = ragged_index(c['ng'])[0]
    # classes with a regular positive, and their number of positives
    gt, val = np.nonzero(positive & ~c['gt_ignore'][:, None])
    classes, num_pos = np.unique(
        c['k'][gt_cell[gt]] * num_vals + val, return_counts=True
    )
    if len(classes) == 0:
        return empty
    # pair cells where a detection can match: a ground truth has the
    # value or has its group unknown, in a class with a positive
    gt, val = np.nonzero(positive | unknown)
    keep = np.isin(c['k'][gt_cell[gt]] * num_vals + val, classes)
    pairs = np.unique(gt_cell[gt[keep]] * num_vals + val[keep])
    pair_cell, pair_val = pairs // num_vals, pairs % num_vals
    e_pair, e_pos, e_score, e_tp, e_fp = _match_pair_cells(
        c, pair_cell, pair_val, dt_probs, positive, unknown, iou_thrs
    )
    # the entries, ranked in their class as COCOeval
    pair_cls = np.searchsorted(
        classes, c['k'][pair_cell] * num_vals + pair_val
    )
    e_img = c['i'][pair_cell][e_pair]
    order = np.lexsort(
        (c['det_rows'][e_pos], e_img, -e_score, pair_cls[e_pair])
    )
    e_pair, e_pos, e_score = e_pair[order], e_pos[order], e_score[order]
    e_tp, e_fp = e_tp[:, order], e_fp[:, order]
    e_val, e_cls = pair_val[e_pair], pair_cls[e_pair]
    # FP before an entry = the category's detections before it that are
    # not entries (their pair cell has no ground truth to match), plus the
    # entries before it that are false positives. A detection outside the
    # area range is never a false positive (matched: true positive or
    # ignored; unmatched: ignored), so neither count includes it.
    excess = e_fp.astype(np.int64) - ~c['det_out'][e_pos]  # (T, E)
    cum = np.cumsum(excess, axis=1) - excess  # before, in all classes
    seg_start = np.searchsorted(e_cls, np.arange(len(classes)))[e_cls]
    fp_before = cum - cum[:, seg_start]
    det_cell = ragged_index(c['nd'])[0]
    det_img, det_cat = c['i'][det_cell], c['k'][det_cell]
    counted = np.nonzero(~c['det_out'])[0]
    e_cat = det_cat[e_pos]
    queries = np.nonzero(e_tp.any(axis=0))[0]
    for cat in np.unique(e_cat[queries]):
        q = queries[e_cat[queries] == cat]
        dets = counted[det_cat[counted] == cat]
        fp_before[:, q] += _count_before(
            c, dt_probs, det_img, dets, e_pos[q], e_val[q], e_score[q], block
        )
    thr, tp = np.nonzero(e_tp)  # by threshold, then class and rank
    precision = coco_precision_counted(
        num_pos, thr, e_cls[tp], fp_before[thr, tp], num_thrs, rec_thrs
    )
    return classes, precision
