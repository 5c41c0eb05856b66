"""PACO protocol: each rule on a hand-checkable case, and official numbers.

The hand cases are in ``paco_cases.py`` (derivations in their docstrings;
every expected value was also produced by PACO's official evaluation). The
file case ``tests/data/paco`` is a seeded random PACO-form ground truth
(objects, ``obj:part`` parts, unknown flags, federated lists,
``segmentation: []``, no ``iscrowd``) with ``attribute_probs`` results in
file order (not sorted by score); its expected numbers are those printed
by the official code (``PACOEval`` + ``heirachrichal_APs`` of
``facebookresearch/paco`` at commit cdefd31, ``lvis`` 0.5.3), divided by
100.
"""

import copy
import json
import math
import os.path as osp

import paco_cases as pc
import pytest

from mmmultilabel.evaluation import (
    AttributeVocabulary,
    convert_results,
    evaluate_paco,
)
from mmmultilabel.utils import AnnotationDefectError, ResultsError

DATA = osp.join(osp.dirname(__file__), '..', 'data', 'paco')


def run(case, iou_type='bbox', **kw):
    gt, results = case
    metrics, lines = evaluate_paco(
        copy.deepcopy(gt), copy.deepcopy(results), iou_type, **kw
    )
    return metrics, lines


def test_hierarchy_other_exclusion_and_parts():
    m, lines = run(pc.hierarchy_case())
    # objects: color = mean(red 1, other(color) 0.5), material = wood 0.5
    # (other(material) left out); parts: color = red 0.5, material NaN
    assert m['obj_attr_AP'] == pytest.approx(0.625)
    assert m['obj_attr_AP_color'] == pytest.approx(0.75)
    assert m['obj_attr_AP_material'] == pytest.approx(0.5)
    assert m['obj_attr_part_AP'] == pytest.approx(0.5)
    assert math.isnan(m['obj_attr_part_AP_material'])
    # a flat mean over the five pairs with a positive would be 0.7
    assert m['obj_attr_AP'] != pytest.approx(0.7)
    assert m['AP'] == pytest.approx(1.0)
    assert any('per (category, attribute) pair' in t for t in lines)


def test_unknown_rule_and_values_under_unknown_type():
    m, _ = run(pc.unknown_case())
    # 51 of 101 recall thresholds reached at precision 1
    assert m['obj_attr_AP'] == pytest.approx(51 / 101)
    # object level: 2 of 3 cups found at precision 1
    assert m['AP'] == pytest.approx(67 / 101)
    assert math.isnan(m['obj_attr_part_AP'])


@pytest.mark.parametrize(
    'neg_mug, cup_ne, expected',
    [
        (False, False, 0.75),  # mug FP dropped: cup 0.5, mug 1
        (True, False, 0.5),  # mug verified absent: its FP counts
        (False, True, 1.0),  # cup not exhaustive: its FP ignored
        (True, True, 0.75),
    ],
)
def test_federated_category_lists(neg_mug, cup_ne, expected):
    m, _ = run(pc.federated_case(neg_mug, cup_ne))
    assert m['AP'] == pytest.approx(expected)
    assert m['obj_AP'] == pytest.approx(expected)


@pytest.mark.parametrize('listed, expected', [(False, 1.0), (True, 0.5)])
def test_federated_pair_lists(listed, expected):
    m, _ = run(pc.pair_negative_case(listed))
    assert m['obj_attr_AP'] == pytest.approx(expected)


def test_part_rule():
    m, _ = run(pc.part_rule_case())
    assert m['obj_part_AP'] == pytest.approx(0.5)
    assert m['obj_AP'] == pytest.approx(1.0)
    assert m['AP'] == pytest.approx(0.75)


def test_box_only_annotation_skipped_and_counted():
    m, lines = run(pc.no_mask_case())
    assert m['AP'] == pytest.approx(0.5)
    assert any(
        '1 annotation(s) with "segmentation": [] skipped' in x for x in lines
    )


@pytest.mark.parametrize(
    'sorted_by_score, expected', [(False, 1.0), (True, 0.5)]
)
def test_row_order_of_the_official_pair_matching(sorted_by_score, expected):
    m, lines = run(pc.row_order_case(sorted_by_score))
    assert m['obj_attr_AP'] == pytest.approx(expected)
    warned = any('not listed in decreasing score' in x for x in lines)
    assert warned is not sorted_by_score


def test_iscrowd_not_read():
    gt, results = pc.no_mask_case()
    gt['annotations'][1] = pc.ann(2, 1, pc.CUP, (50, 50, 20, 20), iscrowd=1)
    m, lines = evaluate_paco(gt, results, 'bbox')
    # LVIS/PACO have no crowd: the region is a regular instance, found
    assert m['AP'] == pytest.approx(1.0)
    assert any('"iscrowd": 1 evaluated as regular' in x for x in lines)


def test_missing_federated_lists_are_exhaustive():
    gt, results = pc.federated_case(True, False)
    for img in gt['images']:
        for key in ('neg_category_ids', 'not_exhaustive_category_ids'):
            del img[key]
    m, lines = evaluate_paco(gt, results, 'bbox')
    # every category verified on every image (COCO): same as neg=[mug]
    assert m['AP'] == pytest.approx(0.5)
    assert any('without "neg_category_ids"' in x for x in lines)


def test_frequency_groups():
    m, _ = run(pc.part_rule_case())
    assert m['APf'] == pytest.approx(1.0)  # cup
    assert m['APr'] == pytest.approx(0.5)  # cup:handle
    assert m['APc'] == -1  # mug has no ground truth (LVIS prints -1)


# ------------------------------------------------------- official numbers
OFFICIAL = pc.OFFICIAL_FILE_NUMBERS


@pytest.fixture(scope='module')
def paco_files():
    with open(osp.join(DATA, 'gt.json')) as f:
        gt = json.load(f)
    with open(osp.join(DATA, 'results.json')) as f:
        results = json.load(f)
    return gt, results


@pytest.mark.parametrize('iou_type, max_dets', sorted(OFFICIAL))
def test_official_numbers_on_paco_files(paco_files, iou_type, max_dets):
    gt, results = paco_files
    m, lines = evaluate_paco(
        copy.deepcopy(gt), copy.deepcopy(results), iou_type, max_dets=max_dets
    )
    for key, value in OFFICIAL[iou_type, max_dets].items():
        assert m[key] == pytest.approx(value, abs=1e-6), key
    assert any('4 annotation(s) with "segmentation": []' in x for x in lines)


# ------------------------------------------------------- no silent zero
@pytest.mark.parametrize(
    'probs, message',
    [
        ([0.5, 0.5], 'has 2 values, expected 4'),
        ([0.5, 'x', 0.5, 0.5], 'non-numbers'),
        ([0.5, float('nan'), 0.5, 0.5], 'non-numbers'),
        ({'red': 0.5}, 'must be a list'),
        (None, 'is missing'),
    ],
)
def test_unreadable_attribute_probs_is_an_error(probs, message):
    gt, results = pc.hierarchy_case()
    if probs is None:
        del results[1]['attribute_probs']
    else:
        results[1]['attribute_probs'] = probs
    with pytest.raises(ResultsError) as err:
        evaluate_paco(gt, results, 'bbox', results_source='res.json')
    text = str(err.value)
    assert 'res.json: result #2 (image id 1)' in text
    assert '"attribute_probs"' in text and message in text


@pytest.mark.parametrize('segmentation', [None, 'mask'])
def test_unreadable_mask_of_the_ground_truth_is_named(segmentation):
    gt, results = pc.hierarchy_case()
    gt['annotations'][0]['segmentation'] = segmentation
    with pytest.raises(AnnotationDefectError) as err:
        evaluate_paco(gt, results, 'bbox', gt_source='gt.json')
    text = str(err.value)
    assert 'gt.json' in text
    assert f'annotation id={gt["annotations"][0]["id"]}' in text
    assert 'field "segmentation"' in text and 'polygons, RLE or []' in text


def convert(results, gt, to_form):
    return convert_results(
        copy.deepcopy(results), AttributeVocabulary(gt), to_form, 'res.json'
    )


def test_own_form_results_give_the_same_numbers():
    gt, results = pc.hierarchy_case()
    own = convert(results, gt, 'own')
    assert 'attribute_probs' not in own[0]
    m, _ = evaluate_paco(gt, own, 'bbox')
    # the hand-derived values of test_hierarchy_other_exclusion_and_parts
    assert m['obj_attr_AP'] == pytest.approx(0.625)
    assert m['obj_attr_part_AP'] == pytest.approx(0.5)


@pytest.mark.parametrize('iou_type', ['segm', 'bbox'])
def test_img_ids_equal_a_file_of_those_images(paco_files, iou_type):
    gt, results = paco_files
    keep = sorted(img['id'] for img in gt['images'])[::2]
    part = dict(gt)
    part['images'] = [i for i in gt['images'] if i['id'] in keep]
    part['annotations'] = [
        a for a in gt['annotations'] if a['image_id'] in keep
    ]
    alone, _ = evaluate_paco(
        part, [r for r in results if r['image_id'] in keep], iou_type
    )
    subset, _ = evaluate_paco(gt, results, iou_type, img_ids=keep)
    assert subset == pytest.approx(alone, nan_ok=True)
    assert subset['AP'] != pytest.approx(OFFICIAL[iou_type, 300]['AP'])
    with pytest.raises(ResultsError, match=r'image ids \[999\]'):
        evaluate_paco(gt, results, iou_type, img_ids=[999])


def test_missing_unknown_flag_is_an_error():
    gt, results = pc.unknown_case()
    del gt['annotations'][1]['unknown_material']
    with pytest.raises(
        AnnotationDefectError, match='annotation id=2.*unknown_material'
    ):
        evaluate_paco(gt, results, 'bbox')


# ------------------------------------------------------------ converters
def test_results_forms_round_trip():
    gt, results = pc.hierarchy_case()
    own = convert(results, gt, 'own')
    assert own[0]['attribute_scores'] == dict(
        color=[0.9, 0.2], material=[0.8, 0.0]
    )
    assert own[0]['attributes'] == dict(color=['red'], material=['wood'])
    assert 'attribute_probs' not in own[0]
    back = convert(own, gt, 'paco')
    assert back == results


@pytest.mark.parametrize(
    'mutate, message',
    [
        ('missing_group', r'result #3 \(image id 1\): field "attribute_scor'
         r'es.material" must list 2 probabilities'),
        ('not_a_number', r'result #3 .*"attribute_scores.color" has a non'),
    ],
)  # fmt: skip
def test_own_form_without_probabilities_is_an_error(mutate, message):
    gt, results = pc.hierarchy_case()
    own = convert(results, gt, 'own')
    if mutate == 'missing_group':
        del own[2]['attribute_scores']['material']
    else:
        own[2]['attribute_scores']['color'][0] = 'x'
    with pytest.raises(ResultsError, match=message):
        convert(own, gt, 'paco')
    with pytest.raises(ResultsError, match=message):
        evaluate_paco(gt, own, 'bbox', results_source='res.json')


def test_missing_box_for_bbox_evaluation_is_an_error():
    gt, results = pc.unknown_case()
    del gt['annotations'][2]['bbox']
    with pytest.raises(
        AnnotationDefectError, match='annotation id=3: field "bbox"'
    ):
        evaluate_paco(gt, results, 'bbox', gt_source='gt.json')
    gt['images'][0].pop('height')
    with pytest.raises(
        AnnotationDefectError,
        match='gt.json: 1 annotation defect.*\n  - image id=1: fields',
    ):
        evaluate_paco(gt, [], 'segm', gt_source='gt.json')


def test_inputs_are_not_modified(paco_files):
    gt, results = paco_files
    gt_copy, results_copy = copy.deepcopy(gt), copy.deepcopy(results)
    for iou_type in ('segm', 'bbox'):
        evaluate_paco(gt, results, iou_type)
    assert gt == gt_copy and results == results_copy


def test_not_a_paco_file_is_an_error():
    gt, results = pc.hierarchy_case()
    del gt['attr_type_to_attr_idxs']
    with pytest.raises(
        AnnotationDefectError, match='not a PACO annotation file'
    ):
        evaluate_paco(gt, results, 'bbox')
