"""The flat precision accumulations against ``COCOeval.accumulate``."""

import contextlib
import io

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

from mmmultilabel.evaluation.accumulate import (
    coco_precision,
    coco_precision_counted,
    coco_precision_sparse,
    summarize_ap,
)


@pytest.mark.parametrize('seed', range(3))
def test_coco_precision_equals_accumulate(seed):
    rng = np.random.default_rng(seed)
    num_classes, num_imgs, num_thrs = 6, 9, 4
    ev = COCOeval(iouType='bbox')
    p = ev.params
    p.imgIds, p.catIds = list(range(num_imgs)), list(range(num_classes))
    p.iouThrs = np.linspace(0.5, 0.95, num_thrs)
    p.areaRng, p.areaRngLbl, p.maxDets = [[0, 1e10]], ['all'], [100]
    records = [None] * (num_classes * num_imgs)
    flat = dict(cls=[], img=[], rank=[], score=[], tp=[], fp=[])
    num_pos = np.zeros(num_classes, dtype=np.int64)
    for k in range(num_classes - 1):  # the last class has nothing
        for i in range(num_imgs):
            nd, ng = int(rng.integers(0, 6)), int(rng.integers(0, 4))
            if nd == 0 and ng == 0:
                continue
            # coarse scores: ties across images and within an image
            scores = -np.sort(-rng.choice([0.2, 0.5, 0.7, 0.9], nd))
            matched = rng.random((num_thrs, nd)) < 0.5
            ignored = rng.random((num_thrs, nd)) < 0.15
            gt_ignore = rng.random(ng) < 0.2
            records[k * num_imgs + i] = dict(
                dtScores=scores,
                dtMatches=matched,
                dtIgnore=ignored,
                gtIgnore=gt_ignore,
            )
            flat['cls'] += [k] * nd
            flat['img'] += [i] * nd
            flat['rank'] += list(range(nd))
            flat['score'] += scores.tolist()
            flat['tp'].append(matched & ~ignored)
            flat['fp'].append(~matched & ~ignored)
            num_pos[k] += int((~gt_ignore).sum())
    ev.evalImgs = records
    ev._paramsEval = p
    with contextlib.redirect_stdout(io.StringIO()):
        ev.accumulate()
    expected = ev.eval['precision'][:, :, :, 0, 0]
    got = coco_precision(
        num_classes,
        np.array(flat['cls']),
        np.array(flat['img']),
        np.array(flat['rank']),
        np.array(flat['score']),
        np.concatenate(flat['tp'], axis=1),
        np.concatenate(flat['fp'], axis=1),
        num_pos,
        p.recThrs,
    )
    np.testing.assert_array_equal(got, expected)
    assert (expected[:, :, -1] == -1).all()
    assert (expected[:, :, :-1] > 0).any()


@pytest.mark.parametrize('chunk', [1, 5, 1 << 19])
def test_sparse_precision_is_the_columns_with_positives(chunk):
    """Classes processed a few detections at a time give the columns of the
    dense precision; classes without positive are left out."""
    rng = np.random.default_rng(7)
    num, num_classes, num_thrs = 400, 12, 3
    det_class = rng.integers(0, num_classes, num)
    det_img = rng.integers(0, 20, num)
    det_rank = rng.integers(0, 4, num)
    det_score = rng.choice([0.1, 0.4, 0.8], num)
    tp = rng.random((num_thrs, num)) < 0.4
    fp = ~tp & (rng.random((num_thrs, num)) < 0.8)
    num_pos = rng.integers(0, 3, num_classes)
    num_pos[:2] = [0, 4]
    args = (det_class, det_img, det_rank, det_score, tp, fp, num_pos)
    rec_thrs = np.linspace(0, 1, 101)
    dense = coco_precision(num_classes, *args, rec_thrs)
    classes, sparse = coco_precision_sparse(*args, rec_thrs, chunk=chunk)
    np.testing.assert_array_equal(classes, np.nonzero(num_pos > 0)[0])
    np.testing.assert_array_equal(sparse, dense[:, :, classes])
    assert (dense[:, :, num_pos == 0] == -1).all()
    assert (sparse > 0).any()


@pytest.mark.parametrize('seed', range(3))
def test_counted_precision_equals_accumulate(seed):
    """Precision from the true positives and the false positives ranked
    before each of them gives ``COCOeval.accumulate``'s numbers."""
    rng = np.random.default_rng(seed)
    num_classes, num_imgs, num_thrs = 6, 9, 4
    ev = COCOeval(iouType='bbox')
    p = ev.params
    p.imgIds, p.catIds = list(range(num_imgs)), list(range(num_classes))
    p.iouThrs = np.linspace(0.5, 0.95, num_thrs)
    p.areaRng, p.areaRngLbl, p.maxDets = [[0, 1e10]], ['all'], [100]
    records = [None] * (num_classes * num_imgs)
    num_pos = np.zeros(num_classes, dtype=np.int64)
    dets = []  # (class, -score, image, rank, tp (T,), fp (T,))
    for k in range(num_classes):
        for i in range(num_imgs):
            nd, ng = int(rng.integers(0, 6)), int(rng.integers(1, 4))
            scores = -np.sort(-rng.choice([0.2, 0.5, 0.7, 0.9], nd))
            matched = rng.random((num_thrs, nd)) < 0.4
            ignored = rng.random((num_thrs, nd)) < 0.15
            gt_ignore = rng.random(ng) < 0.2
            records[k * num_imgs + i] = dict(
                dtScores=scores,
                dtMatches=matched,
                dtIgnore=ignored,
                gtIgnore=gt_ignore,
            )
            num_pos[k] += int((~gt_ignore).sum())
            for d in range(nd):
                tp = matched[:, d] & ~ignored[:, d]
                fp = ~matched[:, d] & ~ignored[:, d]
                dets.append((k, -scores[d], i, d, tp, fp))
    ev.evalImgs = records
    ev._paramsEval = p
    with contextlib.redirect_stdout(io.StringIO()):
        ev.accumulate()
    expected = ev.eval['precision'][:, :, :, 0, 0]
    # COCO's ranking: per class by score, then image, then rank
    dets.sort(key=lambda d: d[:4])
    tp_thr, tp_class, tp_fp_before = [], [], []
    for t in range(num_thrs):
        fp_seen = dict.fromkeys(range(num_classes), 0)
        for k, _, _, _, tp, fp in dets:
            if tp[t]:
                tp_thr.append(t)
                tp_class.append(k)
                tp_fp_before.append(fp_seen[k])
            fp_seen[k] += int(fp[t])
    keep = num_pos > 0
    cols = np.cumsum(keep) - 1  # class -> column of the classes kept
    got = coco_precision_counted(
        num_pos[keep],
        np.array(tp_thr),
        cols[np.array(tp_class)],
        np.array(tp_fp_before),
        num_thrs,
        p.recThrs,
    )
    np.testing.assert_array_equal(got, expected[:, :, keep])
    assert (expected[:, :, keep] > 0).any()


def test_summarize_ap_rules():
    """The two rules in which the protocols' summaries differ: how the IoU
    threshold is found (``==`` or ``np.isclose``) and what nothing
    measured gives (-1 or NaN); -1 and NaN entries are not valid."""
    thrs = np.array([0.5, 0.1 + 0.2])  # 0.30000000000000004 != 0.3
    precision = np.array([[0.2, 0.4, -1.0], [0.9, np.nan, -1.0]])
    assert summarize_ap(precision) == pytest.approx((0.2 + 0.4 + 0.9) / 3)
    assert summarize_ap(precision, thrs, 0.5) == pytest.approx(0.3)
    assert summarize_ap(precision, thrs, 0.3, exact=False) == 0.9
    assert summarize_ap(precision, thrs, 0.3, exact=True) == -1
    assert np.isnan(summarize_ap(precision, thrs, 0.3, True, float('nan')))
    assert np.isnan(summarize_ap(-np.ones((2, 3)), empty=float('nan')))
