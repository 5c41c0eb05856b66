"""AttrCOCOeval against pycocotools used as an independent oracle."""

import contextlib
import copy
import io

import numpy as np
import pytest
from attr_eval_cases import GROUPS, coco_eval, label_row, make_case

from mmmultilabel.evaluation import (
    AttrCOCOeval,
    load_attr_coco_api,
    load_results,
)
from mmmultilabel.utils import AttributeSpec

MMDET_MAX_DETS = (100, 300, 1000)


def attr_eval(gt, results, iou_type, max_dets=None, area_all=None, **kwargs):
    coco_gt = load_attr_coco_api(copy.deepcopy(gt))
    coco_dt = load_results(coco_gt, copy.deepcopy(results), iou_type)
    ev = AttrCOCOeval(coco_gt, coco_dt, iou_type, **kwargs)
    if max_dets is not None:
        ev.params.maxDets = list(max_dets)
    if area_all is not None:
        ev.params.areaRng[0] = list(area_all)
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def at_all(precision):
    """(T, R, K, A, M) -> (T, R, K) at area "all", last maxDets."""
    return precision[:, :, :, 0, -1]


# ------------------------------------------------------------ category AP
@pytest.mark.parametrize('max_dets', [None, MMDET_MAX_DETS])
@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
@pytest.mark.parametrize('seed', [0, 1, 2])
def test_category_ap_is_pycocotools(seed, iou_type, max_dets):
    gt, results = make_case(seed, unknown=0.2)
    ev = attr_eval(gt, results, iou_type, max_dets)
    oracle = coco_eval(gt, results, iou_type, max_dets)
    assert np.array_equal(ev.stats, oracle.stats)
    assert np.array_equal(ev.eval['precision'], oracle.eval['precision'])
    assert 0.1 < ev.stats[0] < 0.95  # a case where AP means something


# ------------------------------------------------- attribute-aware AP
def split_by_tuple(gt, results):
    """Each (image, full attribute tuple) becomes its own image.

    Categories stay. A detection can then only match a ground truth of the
    same category whose attribute tuple equals its own, and AP is still
    averaged over categories: the attribute-aware AP with exact attributes.
    """
    images = {img['id']: img for img in gt['images']}
    new_ids = {}

    def new_image(img_id, attributes):
        key = (img_id, label_row(attributes))
        return new_ids.setdefault(key, len(new_ids) + 1)

    anns = [
        dict(ann, image_id=new_image(ann['image_id'], ann['attributes']))
        for ann in gt['annotations']
    ]
    res = [
        dict(r, image_id=new_image(r['image_id'], r['attributes']))
        for r in results
    ]
    imgs = [
        dict(images[img_id], id=new_id)
        for (img_id, _), new_id in sorted(
            new_ids.items(), key=lambda kv: kv[1]
        )
    ]
    return dict(gt, images=imgs, annotations=anns), res


def split_by_tuple_category(gt, results):
    """Each (category, full attribute tuple) becomes its own category."""
    new_ids = {}

    def new_cat(cat_id, attributes):
        key = (cat_id, label_row(attributes))
        return new_ids.setdefault(key, len(new_ids) + 1)

    anns = [
        dict(ann, category_id=new_cat(ann['category_id'], ann['attributes']))
        for ann in gt['annotations']
    ]
    res = [
        dict(r, category_id=new_cat(r['category_id'], r['attributes']))
        for r in results
    ]
    cats = [dict(id=i, name=str(k)) for k, i in new_ids.items()]
    return dict(gt, annotations=anns, categories=cats), res


def true_positives(eval_imgs, iou_index):
    """{(detection id, threshold index)} counted as true positive."""
    out = set()
    for e in eval_imgs:
        if e is None:
            continue
        tp = (np.asarray(e['dtMatches'])[iou_index] > 0) & ~np.asarray(
            e['dtIgnore']
        )[iou_index].astype(bool)
        out.update(
            zip(
                np.asarray(e['dtIds'])[tp].tolist(),
                [iou_index] * int(tp.sum()),
            )
        )
    return out


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
@pytest.mark.parametrize('seed', [3, 4, 5])
def test_attr_ap_is_pycocotools_on_attribute_tuples(seed, iou_type):
    # all ground-truth attributes known and exact multi-label matching
    # (F1 >= 1): attribute compatibility is equality of the label rows
    gt, results = make_case(seed, unknown=0.0, attr_right=0.6)
    ev = attr_eval(gt, results, iou_type, attr_f1_thr=1.0)

    # same AP when (image, tuple) pairs are separate images
    oracle = coco_eval(*split_by_tuple(gt, results), iou_type)
    np.testing.assert_array_equal(
        ev.attr_eval['precision'], at_all(oracle.eval['precision'])
    )
    assert ev.attr_stats['attr_mAP'] == oracle.stats[0]
    assert ev.attr_stats['attr_mAP_50'] == oracle.stats[1]
    assert ev.attr_stats['attr_mAP_75'] == oracle.stats[2]
    # attributes matter here: below the category AP, above zero
    assert 0.05 < ev.attr_stats['attr_mAP'] < ev.stats[0] - 0.05

    # and exactly the true positives of pycocotools when each (category,
    # tuple) is a category of its own
    by_cat = coco_eval(*split_by_tuple_category(gt, results), iou_type)
    num_imgs, num_areas = len(by_cat.params.imgIds), len(by_cat.params.areaRng)
    theirs = [
        by_cat.evalImgs[(k * num_areas) * num_imgs + i]
        for k in range(len(by_cat.params.catIds))
        for i in range(num_imgs)
    ]
    matches = ev.attr_eval['matches']
    for t in range(10):
        mine = {(i, t) for i in matches['ids'][matches['tp'][t]].tolist()}
        assert mine == true_positives(theirs, t)
        assert t > 0 or len(mine) > 5  # not trivially empty


def test_attr_ap_without_attribute_groups_is_category_ap():
    gt, results = make_case(6, unknown=0.0)
    gt['attribute_groups'] = []
    for ann in gt['annotations']:
        ann.pop('attributes')
    for res in results:
        res.pop('attributes')
        res.pop('attribute_scores')
    ev = attr_eval(gt, results, 'segm')
    np.testing.assert_array_equal(
        ev.attr_eval['precision'], at_all(ev.eval['precision'])
    )
    assert ev.attr_stats['attr_mAP'] == ev.stats[0]
    assert ev.attr_stats['pair_mAP'] == -1  # no attribute value at all


def drop_group(gt, results, name):
    gt = copy.deepcopy(gt)
    results = copy.deepcopy(results)
    gt['attribute_groups'] = [
        g for g in gt['attribute_groups'] if g['name'] != name
    ]
    for item in gt['annotations'] + results:
        item['attributes'].pop(name, None)
        item.get('attribute_scores', {}).pop(name, None)
    return gt, results


def test_unknown_ground_truth_attribute_is_ignored():
    gt, results = make_case(7, unknown=0.0)
    for ann in gt['annotations']:
        ann['attributes'].pop('color')  # color unknown everywhere
    ev = attr_eval(gt, results, 'bbox')
    ref = attr_eval(*drop_group(gt, results, 'color'), 'bbox')
    np.testing.assert_array_equal(
        ev.attr_eval['precision'], ref.attr_eval['precision']
    )
    assert ev.attr_stats['color_num'] == 0
    assert ev.attr_stats['color_acc'] == -1
    assert ev.attr_stats['color_pair_mAP'] == -1  # no known color
    for key in ('size_acc', 'size_num', 'pattern_f1', 'pattern_pair_mAP'):
        assert ev.attr_stats[key] == ref.attr_stats[key]
    assert ev.attr_stats['size_num'] > 10


# ------------------------------------------------- object-attribute AP
def pair_classes(gt, results):
    """PACO's object-attribute classes as plain COCO categories.

    Class (category k, value s) has id ``k * S + s + 1``. Ground truths
    with the value are positives; those whose group is unknown are ignored
    (pushed out of the "all" area range, so not crowd); detections of the
    category are repeated for every value with score x probability.
    """
    spec = AttributeSpec(GROUPS)
    num_vals = spec.num_values
    cat_index = {c['id']: k for k, c in enumerate(gt['categories'])}
    values = [(g, v) for g in spec for v in g.values]
    anns, res = [], []
    for ann in gt['annotations']:
        for s, (group, value) in enumerate(values):
            known = group.name in ann['attributes']
            got = ann['attributes'].get(group.name, [])
            has = value in got if group.multi_label else value == got
            if known and not has:
                continue
            new = dict(
                ann,
                id=ann['id'] * num_vals + s,
                category_id=cat_index[ann['category_id']] * num_vals + s + 1,
            )
            if not known and not ann['iscrowd']:
                new['area'] = 1e11
            anns.append(new)
    for r in results:
        for s, (group, value) in enumerate(values):
            prob = r['attribute_scores'].get(
                group.name, [0.0] * group.num_values
            )[list(group.values).index(value)]
            res.append(
                dict(
                    r,
                    score=r['score'] * prob,
                    category_id=cat_index[r['category_id']] * num_vals + s + 1,
                )
            )
    cats = [
        dict(id=i + 1, name=str(i))
        for i in range(len(gt['categories']) * num_vals)
    ]
    return dict(gt, annotations=anns, categories=cats), res


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
@pytest.mark.parametrize('seed', [8, 9])
def test_pair_ap_is_pycocotools_on_pair_classes(seed, iou_type):
    gt, results = make_case(seed, unknown=0.25)
    ev = attr_eval(gt, results, iou_type)
    oracle = coco_eval(*pair_classes(gt, results), iou_type)
    np.testing.assert_array_equal(
        ev.attr_eval['pair_precision'], at_all(oracle.eval['precision'])
    )
    assert ev.attr_stats['pair_mAP'] == oracle.stats[0]
    assert ev.attr_stats['pair_mAP_50'] == oracle.stats[1]
    assert 0.05 < ev.attr_stats['pair_mAP'] < 0.95


@pytest.mark.parametrize('block', [1, 7])
def test_pair_ap_is_pycocotools_in_small_value_blocks(block, monkeypatch):
    """Values matched a few at a time (each block reduced to the precision
    of its classes with a positive) give pycocotools' numbers, and the
    classes without positive are -1 without being evaluated."""
    monkeypatch.setattr(AttrCOCOeval, 'PAIR_BLOCK', block)
    gt, results = make_case(8, unknown=0.25)
    ev = attr_eval(gt, results, 'segm')
    oracle = coco_eval(*pair_classes(gt, results), 'segm')
    expected = at_all(oracle.eval['precision'])
    np.testing.assert_array_equal(ev.attr_eval['pair_precision'], expected)
    assert ev.attr_stats['pair_mAP'] == oracle.stats[0]
    assert (expected == -1).all(axis=(0, 1)).any()  # some have no positive
    for group in ev.spec:
        key = f'{group.name}_pair_mAP'
        monkeypatch.setattr(AttrCOCOeval, 'PAIR_BLOCK', 1 << 19)
        assert (
            ev.attr_stats[key]
            == attr_eval(gt, results, 'segm').attr_stats[key]
        )


def test_pair_ap_ties_without_attribute_scores():
    # a stock model: no attribute scores -> every pair score is 0 and the
    # order among tied detections is the result order, as in pycocotools
    gt, results = make_case(10, unknown=0.25)
    for r in results:
        r['attribute_scores'] = {}
    ev = attr_eval(gt, results, 'bbox')
    oracle = coco_eval(*pair_classes(gt, results), 'bbox')
    np.testing.assert_array_equal(
        ev.attr_eval['pair_precision'], at_all(oracle.eval['precision'])
    )


@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
def test_detections_outside_the_area_range(iou_type):
    """With a narrow area range "all", unmatched detections outside it are
    ignored (neither true nor false positives) as in pycocotools, in the
    pair classes and in the attribute-aware AP."""
    area = [200, 500]
    gt, results = make_case(20, unknown=0.25)
    ev = attr_eval(gt, results, iou_type, area_all=area)
    areas = [d['area'] for d in ev.cocoDt.anns.values()]
    assert sum(not area[0] <= a <= area[1] for a in areas) > 10
    oracle = coco_eval(*pair_classes(gt, results), iou_type, area_all=area)
    np.testing.assert_array_equal(
        ev.attr_eval['pair_precision'], at_all(oracle.eval['precision'])
    )
    assert 0.05 < ev.attr_stats['pair_mAP'] == oracle.stats[0]
    gt, results = make_case(21, unknown=0.0)
    ev = attr_eval(gt, results, iou_type, area_all=area, attr_f1_thr=1.0)
    oracle = coco_eval(*split_by_tuple(gt, results), iou_type, area_all=area)
    np.testing.assert_array_equal(
        ev.attr_eval['precision'], at_all(oracle.eval['precision'])
    )
    assert 0.05 < ev.attr_stats['attr_mAP'] == oracle.stats[0]


# ------------------------------------------------------ attribute accuracy
def brute_force_scores(gt, results, iou_type):
    """Accuracy / macro F1 per group from pycocotools' own matches."""
    oracle = coco_eval(gt, results, iou_type)
    res_by_id = {n + 1: r for n, r in enumerate(results)}
    gt_by_id = {a['id']: a for a in gt['annotations']}
    pairs = []
    num_imgs, num_areas = len(oracle.params.imgIds), len(oracle.params.areaRng)
    for k in range(len(oracle.params.catIds)):
        for i in range(num_imgs):
            e = oracle.evalImgs[k * num_areas * num_imgs + i]  # area all
            if e is None:
                continue
            for d, g, ig in zip(
                e['dtIds'], e['dtMatches'][0], e['dtIgnore'][0]
            ):
                if g > 0 and not ig:
                    pairs.append((res_by_id[d], gt_by_id[int(g)]))
    out = {}
    for group in GROUPS:
        name = group['name']
        known = [(r, g) for r, g in pairs if name in g['attributes']]
        if not group.get('multi_label'):
            right = [
                r['attributes'].get(name) == g['attributes'][name]
                for r, g in known
            ]
            out[name] = (np.mean(right) if right else -1, len(known))
            continue
        f1s = []
        for v in group['values']:
            tp = fp = fn = 0
            for r, g in known:
                p = v in r['attributes'].get(name, [])
                t = v in g['attributes'][name]
                tp, fp, fn = (
                    tp + (p and t),
                    fp + (p and not t),
                    fn + (t and not p),
                )
            if tp + fp + fn:
                f1s.append(2 * tp / (2 * tp + fp + fn))
        out[name] = (np.mean(f1s) if f1s else -1, len(known))
    return out


@pytest.mark.parametrize('seed', [11, 12])
def test_attribute_scores_on_pycocotools_matches(seed):
    gt, results = make_case(seed, unknown=0.3)
    ev = attr_eval(gt, results, 'segm')
    expected = brute_force_scores(gt, results, 'segm')
    for name, (value, count) in expected.items():
        kind = 'f1' if name == 'pattern' else 'acc'
        assert ev.attr_stats[f'{name}_num'] == count
        assert ev.attr_stats[f'{name}_{kind}'] == pytest.approx(value)
        assert count > 5


# -------------------------------------------------------- hand-made cases
def one_object_case():
    """One image, one red/small/[striped] square, two detections on it."""
    seg = dict(size=[20, 20], counts='')
    import pycocotools.mask as mask_util

    m = np.zeros((20, 20), dtype=np.uint8)
    m[5:15, 5:15] = 1
    seg = mask_util.encode(np.asfortranarray(m))
    seg['counts'] = seg['counts'].decode()
    gt = dict(
        images=[
            dict(id=42, width=20, height=20, file_name='a.png'),
            dict(id=43, width=20, height=20, file_name='b.png'),
        ],
        categories=[dict(id=1, name='cube')],
        attribute_groups=copy.deepcopy(GROUPS),
        annotations=[
            dict(
                id=9,
                image_id=42,
                category_id=1,
                iscrowd=0,
                bbox=[5.0, 5.0, 10.0, 10.0],
                area=100.0,
                segmentation=seg,
                attributes=dict(
                    color='red', size='small', pattern=['striped', 'dotted']
                ),
            )
        ],
    )
    scores = dict(
        color=[0.2, 0.7, 0.1], size=[0.6, 0.4], pattern=[0.9, 0.2, 0.1]
    )
    results = [
        dict(
            image_id=42,
            category_id=1,
            bbox=[5.0, 5.0, 10.0, 10.0],
            segmentation=seg,
            score=0.9,
            attribute_scores=scores,
            attributes=dict(
                color='green', size='small', pattern=['striped', 'dotted']
            ),
        ),
        dict(
            image_id=42,
            category_id=1,
            bbox=[5.0, 5.0, 10.0, 10.0],
            segmentation=seg,
            score=0.8,
            attribute_scores=scores,
            attributes=dict(color='red', size='small', pattern=['striped']),
        ),
    ]
    return gt, results


def test_hand_made_attribute_aware_ap():
    gt, results = one_object_case()
    ev = attr_eval(gt, results, 'segm')
    # category: the first detection is right -> AP 1 (up to COCO's eps)
    assert ev.stats[0] == pytest.approx(1.0)
    # attributes: the first has the wrong color (FP), the second is right
    # (pattern F1 = 2*1/(1+2) = 0.67 >= 0.5) -> precision 1/2 at recall 1
    assert ev.attr_stats['attr_mAP'] == pytest.approx(0.5)
    # accuracy over COCO's match (the first detection)
    assert ev.attr_stats['color_acc'] == 0.0
    assert ev.attr_stats['size_acc'] == 1.0
    assert ev.attr_stats['pattern_f1'] == 1.0
    assert ev.attr_stats['color_num'] == 1
    # F1 0.67 is not enough at 0.7: no detection is right
    strict = attr_eval(gt, results, 'segm', attr_f1_thr=0.7)
    assert strict.attr_stats['attr_mAP'] == 0.0
    # red has one positive; both detections score .9*.2 and .8*.2: the
    # first matches it -> AP 1; green has no positive -> not counted
    assert ev.attr_stats['color_pair_mAP'] == pytest.approx(1.0)
    red = 0 * ev.spec.num_values + 0
    assert ev.attr_eval['pair_precision'][:, :, red].min() == pytest.approx(
        1.0
    )
    green = 1
    assert (ev.attr_eval['pair_precision'][:, :, green] == -1).all()


def test_hand_made_unknown_ground_truth_color():
    gt, results = one_object_case()
    gt['annotations'][0]['attributes'].pop('color')
    ev = attr_eval(gt, results, 'segm')
    # color no longer counts
    assert ev.attr_stats['attr_mAP'] == pytest.approx(1.0)
    assert ev.attr_stats['color_num'] == 0


def test_hand_made_unknown_prediction_is_wrong():
    gt, results = one_object_case()
    for r in results:
        r['attributes'].pop('size')
    ev = attr_eval(gt, results, 'segm')
    assert ev.attr_stats['attr_mAP'] == 0.0
    assert ev.attr_stats['size_acc'] == 0.0


# ------------------------------------------------------ degenerate inputs
@pytest.mark.parametrize('iou_type', ['bbox', 'segm'])
def test_empty_predictions(iou_type):
    gt, _ = make_case(13)
    ev = attr_eval(gt, [], iou_type, MMDET_MAX_DETS)
    oracle = coco_eval(gt, [], iou_type, MMDET_MAX_DETS)
    assert np.array_equal(ev.stats, oracle.stats)
    assert ev.stats[0] == 0.0
    assert ev.attr_stats['attr_mAP'] == 0.0
    assert ev.attr_stats['pair_mAP'] == 0.0
    assert ev.attr_stats['color_num'] == 0
    assert ev.attr_stats['color_acc'] == -1


def test_images_without_ground_truth_count_false_positives():
    gt, results = make_case(14, empty_img=0.5)
    empty = {img['id'] for img in gt['images']} - {
        a['image_id'] for a in gt['annotations']
    }
    assert any(r['image_id'] in empty for r in results)
    ev = attr_eval(gt, results, 'bbox')
    kept = [r for r in results if r['image_id'] not in empty]
    without = attr_eval(gt, kept, 'bbox')
    assert ev.stats[0] == coco_eval(gt, results, 'bbox').stats[0]
    # their detections are false positives for every AP
    assert ev.stats[0] < without.stats[0]
    assert ev.attr_stats['attr_mAP'] < without.attr_stats['attr_mAP']
    assert ev.attr_stats['pair_mAP'] < without.attr_stats['pair_mAP']


def test_no_ground_truth_at_all():
    gt, results = make_case(15)
    gt['annotations'] = []
    ev = attr_eval(gt, results, 'segm')
    assert ev.stats[0] == -1  # as pycocotools: nothing to find
    assert ev.attr_stats['attr_mAP'] == -1
    assert ev.attr_stats['pair_mAP'] == -1


def test_errors_name_the_offending_item():
    gt, results = make_case(16)
    gt['annotations'][3]['attributes'] = dict(color='purple')
    with pytest.raises(ValueError, match=r'annotation id='):
        attr_eval(gt, results, 'bbox')
    gt, results = make_case(16)
    results[2]['attribute_scores'] = dict(color=[0.5])
    with pytest.raises(ValueError, match=r'result #3 .*3 probabilities'):
        attr_eval(gt, results, 'bbox')
    coco_gt = load_attr_coco_api(copy.deepcopy(gt))
    bad = [dict(results[0], image_id=123456)]
    with pytest.raises(ValueError, match='image id 123456'):
        load_results(coco_gt, bad, 'bbox')
