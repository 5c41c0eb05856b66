"""The batched greedy matching against pycocotools' ``evaluateImg``."""

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

from mmmultilabel.evaluation import greedy_match, match_ragged

# Few distinct IoU values, so that ties and values equal to a threshold
# are frequent.
IOU_LEVELS = np.array([0.0, 0.3, 0.5, 0.55, 0.7, 0.75, 0.75, 0.9, 1.0])


def random_cells(rng, num_cells):
    """Random cells: (ious (D, G), gt ignore, gt crowd), crowd => ignore."""
    cells = []
    for _ in range(num_cells):
        nd, ng = int(rng.integers(0, 9)), int(rng.integers(0, 7))
        ious = rng.choice(IOU_LEVELS, size=(nd, ng))
        ignore = rng.random(ng) < 0.3
        crowd = ignore & (rng.random(ng) < 0.5)
        cells.append((ious, ignore, crowd))
    return cells


def reference_matches(cells, iou_thrs):
    """Ground-truth index matched by each detection, by ``evaluateImg``."""
    ev = COCOeval(iouType='bbox')
    ev.params.iouThrs = np.asarray(iou_thrs)
    out = []
    for n, (ious, ignore, crowd) in enumerate(cells):
        nd, ng = ious.shape
        # ids start at 1 (0 means unmatched in pycocotools)
        ev._gts[1, n] = [
            dict(
                id=g + 1,
                ignore=int(ignore[g]),
                iscrowd=int(crowd[g]),
                area=10.0,
            )
            for g in range(ng)
        ]
        ev._dts[1, n] = [
            dict(id=d + 1, score=1.0 - d / 100, area=10.0) for d in range(nd)
        ]
        ev.ious[1, n] = ious if nd and ng else []
        e = ev.evaluateImg(1, n, [0, 1e10], 100)
        if e is None:
            out.append(np.zeros((len(iou_thrs), 0), dtype=np.int64))
            continue
        # matched gt ids -> index in the original gt order
        out.append(e['dtMatches'].astype(np.int64) - 1)
    return out


@pytest.mark.parametrize('seed', range(4))
def test_match_ragged_equals_evaluate_img(seed):
    rng = np.random.default_rng(seed)
    iou_thrs = np.linspace(0.5, 0.95, 10)
    cells = random_cells(rng, 150)
    nd = np.array([c[0].shape[0] for c in cells])
    ng = np.array([c[0].shape[1] for c in cells])
    ious = np.concatenate([c[0].ravel() for c in cells])
    ignore = np.concatenate([c[1] for c in cells])
    crowd = np.concatenate([c[2] for c in cells])
    match = match_ragged(nd, ng, ious, ignore, crowd, iou_thrs)
    expected = np.concatenate(reference_matches(cells, iou_thrs), axis=1)
    assert match.shape == expected.shape == (10, nd.sum())
    np.testing.assert_array_equal(match, expected)
    # the case is not trivial: matches, ties and crowd reuse happen
    assert (match >= 0).mean() > 0.2


def test_greedy_match_hand_made():
    # two detections, two gts; both detections overlap gt 1 best
    ious = np.array([[[0.6, 0.8], [0.55, 0.9]]])
    no = np.zeros((1, 2), dtype=bool)
    match = greedy_match(ious, np.array([2]), no, no, [0.5, 0.85])
    # IoU .5: det 0 takes gt 1 (best), det 1 gets the remaining gt 0
    # IoU .85: det 0 has no gt >= .85; det 1 takes gt 1
    np.testing.assert_array_equal(match[0], [[1, 0], [-1, 1]])


def test_greedy_match_prefers_regular_over_ignored():
    ious = np.array([[[0.6, 0.95]]])  # gt 1 is better but ignored (crowd)
    ignore = np.array([[False, True]])
    match = greedy_match(ious, np.array([1]), ignore, ignore, [0.5, 0.7])
    # at .5 the regular gt wins; at .7 only the crowd qualifies
    np.testing.assert_array_equal(match[0], [[0], [1]])
    # a crowd gt is matched again by later detections
    ious = np.array([[[0.9], [0.9]]])
    crowd = np.array([[True]])
    match = greedy_match(ious, np.array([2]), crowd, crowd, [0.5])
    np.testing.assert_array_equal(match[0], [[0, 0]])
