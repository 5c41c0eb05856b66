"""The fashionpedia protocol: every rule of FPEval that differs from COCO.

Expected values are computed by hand (the derivations are in the case
docstrings of ``fashionpedia_cases.py``) and were confirmed by running the
official ``FPEval`` (``fashionpedia-api``, ``fashionpedia/fp_eval.py``,
scikit-learn 1.9) on the same dicts in a separate environment; that run
printed the numbers written below.
"""

import contextlib
import copy
import io

import numpy as np
import pytest
from fashionpedia_cases import (
    OFFICIAL_NAMES,
    chain_case,
    crowd_case,
    gt_file,
    results,
    weighting_case,
)
from pycocotools.cocoeval import COCOeval

from mmmultilabel.evaluation import (
    FashionpediaEval,
    evaluate_fashionpedia,
    load_results,
    official_gt_coco,
)
from mmmultilabel.evaluation.fashionpedia.fashionpedia_eval import (
    binary_macro_f1,
    category_list_warnings,
)
from mmmultilabel.utils import AnnotationDefectError, ResultsError


def load_official_results(coco_gt, results, iou_type):
    """Results as the official evaluators read them (``loadRes``)."""
    return load_results(coco_gt, results, iou_type, official=True)


def hot(ids, num):
    row = np.zeros((1, num), dtype=np.int64)
    row[0, list(ids)] = 1
    return row


@pytest.mark.parametrize(
    'pred, gt, num, expected',
    [
        # label 1: 2*1/(2*1+1+0); label 0: 2*2/(2*2+0+1); mean of both
        ({0, 1}, {0}, 4, (2 / 3 + 4 / 5) / 2),
        # true negatives count: the same sets over 320 attributes
        ({0, 1}, {0}, 320, (2 / 3 + 636 / 637) / 2),
        # a missed attribute: label 1 scores 0, label 0 2*2/(2*2+1)
        (set(), {0}, 3, (0 + 4 / 5) / 2),
        # nothing predicted, nothing true: only label 0 occurs, F1 1
        (set(), set(), 5, 1.0),
        # every attribute true and predicted: only label 1 occurs, F1 1
        ({0, 1}, {0, 1}, 2, 1.0),
        # disjoint: label 1 0, label 0 2*1/(2*1+2)
        ({1}, {0}, 3, (0 + 2 / 4) / 2),
    ],
)
def test_f1_is_binary_macro_over_the_flat_vector(pred, gt, num, expected):
    f1 = binary_macro_f1(hot(pred, num), hot(gt, num), num)
    assert f1.shape == (1, 1)
    assert f1[0, 0] == pytest.approx(expected, abs=1e-12)


def test_f1_pairs_every_detection_with_every_ground_truth():
    pred = np.concatenate([hot({0}, 4), hot({1, 2}, 4)])
    gt = np.concatenate([hot({0}, 4), hot({2}, 4), hot(set(), 4)])
    f1 = binary_macro_f1(pred, gt, 4)
    for d in range(2):
        for g in range(3):
            assert f1[d, g] == binary_macro_f1(pred[[d]], gt[[g]], 4)[0, 0]


def run_eval(gt, res, iou_type='bbox'):
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = official_gt_coco(gt)
        coco_dt = load_official_results(coco_gt, res, iou_type)
        ev = FashionpediaEval(coco_gt, coco_dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def test_match_needs_a_better_iou_and_a_better_f1():
    gt, res = chain_case()
    ev = run_eval(gt, res)
    rec = ev.evalImgs[0]  # category 0, area "all"
    assert rec['gtIds'] == [1, 2] and rec['dtIds'] == [1, 2]
    t85 = int(np.argmin(np.abs(ev.params.iouThrs - 0.85)))
    t90 = int(np.argmin(np.abs(ev.params.iouThrs - 0.9)))
    # t_F1 0.5 is slice 0. d1 -> B (id 1), d2 -> A (id 2), as FPEval
    assert rec['dtMatches'][t85, 0].tolist() == [1, 2]
    # at 0.9 only A is close enough to d1; d2 finds nothing
    assert rec['dtMatches'][t90, 0].tolist() == [2, 0]
    # COCO's rule gives d1 to A (largest IoU) and nothing to d2
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = official_gt_coco(gt)
        coco = COCOeval(
            coco_gt, load_official_results(coco_gt, res, 'bbox'), 'bbox'
        )
        coco.evaluate()
    assert coco.evalImgs[0]['dtMatches'][t85].tolist() == [2, 0]
    # AP^{IoU}: 1 at 0.50..0.85, 51/101 at 0.90 (precision 1 up to recall
    # 0.5), 0.5 * 51/101 at 0.95: (8 + 51/101 + 25.5/101) / 10; official
    # FPEval: AP^{IoU+F1} 0.863119, AP^{IoU} 0.875743
    assert ev.stats_iou['AP'] == pytest.approx((8 + 76.5 / 101) / 10)
    assert ev.stats_iou['AP'] == pytest.approx(0.875743, abs=1e-6)
    assert ev.stats_iou_f1['AP'] == pytest.approx(0.863119, abs=1e-6)
    assert ev.stats_iou_f1['AP50'] == 1.0


def test_categories_with_attributes_weigh_ten_times():
    gt, res = weighting_case()
    metrics, tables = evaluate_fashionpedia(gt, res, 'bbox')
    assert metrics['AP_iou_f1'] == pytest.approx(6 / 11)
    assert metrics['AP_iou_f1_50'] == pytest.approx(6 / 11)
    assert metrics['AP_iou'] == pytest.approx(1.0)
    assert 'AP^{IoU+F1}' in tables[0]


def test_categories_without_attributes_ignore_attributes():
    gt, res = weighting_case()
    res = [r for r in res if r['category_id'] == 13]
    right = copy.deepcopy(res)
    right[0]['attribute_ids'] = [2]  # the true one
    wrong, _ = evaluate_fashionpedia(gt, res, 'bbox')
    good, _ = evaluate_fashionpedia(gt, right, 'bbox')
    assert wrong == good
    # category 0 found nothing: (10 slices x 0 + 1 x 1) / 11
    assert wrong['AP_iou_f1'] == pytest.approx(1 / 11)


def test_crowd_ground_truth_is_taken_once():
    gt, res = crowd_case()
    metrics, _ = evaluate_fashionpedia(gt, res, 'bbox')
    assert metrics['AP_iou_f1'] == pytest.approx(0.5)
    assert metrics['AP_iou'] == pytest.approx(0.5)
    with contextlib.redirect_stdout(io.StringIO()):  # COCO: 1
        coco_gt = official_gt_coco(gt)
        coco = COCOeval(
            coco_gt, load_official_results(coco_gt, res, 'bbox'), 'bbox'
        )
        coco.evaluate()
        coco.accumulate()
        coco.summarize()
    assert coco.stats[0] == pytest.approx(1.0)


def test_ground_truth_as_published_without_bbox_and_iscrowd():
    gt, res = weighting_case()
    assert all('bbox' not in a for a in gt['annotations'])
    for ann in gt['annotations']:
        del ann['iscrowd']
    before = copy.deepcopy(gt)
    metrics, _ = evaluate_fashionpedia(gt, res, 'bbox')
    assert metrics['AP_iou_f1'] == pytest.approx(6 / 11)
    assert gt == before  # the given dict is not modified


def test_box_area_of_results_decides_the_area_range():
    # [FP-RES] as loadRes: results with "bbox" take its area. A 2x2 mask
    # whose box claims 40x40 (area 1600: medium) leaves "small" empty.
    gt = gt_file([(13, (0, 0, 2, 2), [])])
    res = results([(13, (0, 0, 40, 40), [], 0.9)])
    res[0]['segmentation'] = gt_file([(13, (0, 0, 2, 2), [])])['annotations'][
        0
    ]['segmentation']
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = official_gt_coco(gt)
        coco_dt = load_official_results(coco_gt, res, 'segm')
    assert coco_dt.anns[1]['area'] == 1600


def test_official_category_positions_are_checked_by_name():
    gt, _ = weighting_case()
    assert category_list_warnings(gt['categories']) == []
    gt['categories'][28]['name'] = 'hood'
    (msg,) = category_list_warnings(gt['categories'])
    assert 'position 28: "hood" (official "collar")' in msg
    short = gt_file([], num_cats=30)['categories']
    assert 'position 31: "(none)"' in category_list_warnings(short)[0]


def test_ids_that_are_not_positions_are_an_error_as_officially():
    # category id 13 sits at position 12 (a position with attributes):
    # the official FPEval stops with IndexError
    gt, res = weighting_case()
    for cat in gt['categories']:
        cat['id'] += 1
    for ann in gt['annotations'] + res:
        ann['category_id'] = 13
    assert 'not 0..K-1' in category_list_warnings(gt['categories'])[0]
    with pytest.raises(AnnotationDefectError, match='category id=13'):
        evaluate_fashionpedia(gt, res, 'bbox')


def test_own_form_results_give_the_same_numbers():
    gt, res = chain_case()
    own = []
    for r in res:
        r = dict(r)
        ids = r.pop('attribute_ids')
        # groups are the supercategories: attr0/attr2 group0, attr1 group1
        r['attributes'] = dict(
            group0=[f'attr{i}' for i in ids if i % 2 == 0],
            group1=[f'attr{i}' for i in ids if i % 2 == 1],
        )
        own.append(r)
    assert (
        evaluate_fashionpedia(gt, own, 'bbox')[0]
        == (evaluate_fashionpedia(gt, res, 'bbox')[0])
    )


def test_unreadable_attributes_are_errors_naming_the_result():
    gt, res = chain_case()
    bad = copy.deepcopy(res)
    bad[1]['attribute_ids'] = [7]
    with pytest.raises(ResultsError, match=r'result #2 \(image id 1\).*id 7'):
        evaluate_fashionpedia(gt, bad, 'bbox', results_source='r.json')
    bad = copy.deepcopy(res)
    del bad[0]['attribute_ids']
    with pytest.raises(ResultsError, match=r'r.json: result #1 .*"attri'):
        evaluate_fashionpedia(gt, bad, 'bbox', results_source='r.json')
    bad = copy.deepcopy(res)
    bad[1]['attribute_probs'] = [0.5] * 4
    with pytest.raises(ResultsError, match='result #2 .*different forms'):
        evaluate_fashionpedia(gt, bad, 'bbox')


def test_ground_truth_must_be_in_fashionpedia_form():
    gt, res = chain_case()
    gt['annotations'][0]['attribute_ids'] = [9]
    with pytest.raises(AnnotationDefectError, match='annotation id=1'):
        evaluate_fashionpedia(gt, res, 'bbox', gt_source='gt.json')
    gt, res = chain_case()
    del gt['attributes']
    with pytest.raises(AnnotationDefectError, match='Fashionpedia form'):
        evaluate_fashionpedia(gt, res, 'bbox')


def test_no_results_at_all():
    # (the official loadRes fails on an empty list; here it is AP 0)
    gt, _ = weighting_case()
    metrics, _ = evaluate_fashionpedia(gt, [], 'bbox')
    assert metrics['AP_iou_f1'] == 0 and metrics['AP_iou'] == 0
    # both ground truths are small (areas 100 and 400 < 32^2)
    assert metrics['AP_iou_f1_s'] == 0 and metrics['AP_iou_f1_m'] == -1
    assert OFFICIAL_NAMES[13] == 'glasses'


def test_the_warning_is_logged(monkeypatch):
    from mmmultilabel.evaluation.fashionpedia import fashionpedia_eval

    logged = []
    monkeypatch.setattr(
        fashionpedia_eval, 'print_log', lambda msg, **kw: logged.append(msg)
    )
    gt, res = weighting_case()
    evaluate_fashionpedia(gt, res, 'bbox', gt_source='gt.json')
    assert logged == []
    gt['categories'][33]['name'] = 'garment belt'
    evaluate_fashionpedia(gt, res, 'bbox', gt_source='gt.json')
    (msg,) = logged
    assert msg.startswith('gt.json: ') and 'position 33' in msg
