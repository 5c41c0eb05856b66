"""Attribute analysis: confusion matrices, value scores, errors, PR curves,
and the tools that draw them, against counts made by hand on
:mod:`attr_analysis_cases`."""

import contextlib
import csv
import importlib.util
import io
import json
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
import torch
from attr_analysis_cases import (
    GROUPS,
    IMG_A,
    IMG_B,
    SIZE,
    errors_case,
    pr_case,
    write_case,
)

from mmmultilabel.evaluation import (
    attr_confusion_matrix,
    attr_value_scores,
    attribute_errors,
    evaluate_attr_coco,
    load_attr_coco_api,
    matched_attributes,
    pair_pr_curves,
    pair_value_ap,
    worst_images,
)
from mmmultilabel.utils import AttributeSpec

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(name: str):
    path = osp.join(REPO, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluate(case):
    gt, results = case()
    with contextlib.redirect_stdout(io.StringIO()):
        return evaluate_attr_coco(load_attr_coco_api(gt), results, 'segm')


# Counted by hand from errors_case (rows true, columns predicted).
# color pairs: red->red, green->blue, blue->blue, red->none, unknown->red
COLOR = [[1, 0, 0, 1], [0, 0, 1, 0], [0, 0, 1, 0], [1, 0, 0, 0]]
# size pairs: small->large, large->large, unknown->small, small->small,
# large->small
SIZE_CM = [[1, 1, 0], [1, 1, 0], [1, 0, 0]]
ERRORS = [
    # image, annotation, result, category, group, true, predicted, score,
    # value_score
    (IMG_A, 11, 1, 'cube', 'size', 'small', 'large', 0.9, '0.7000'),
    (IMG_A, 12, 2, 'cube', 'color', 'green', 'blue', 0.8, '0.6000'),
    (IMG_A, 12, 2, 'cube', 'pattern', '-', 'dotted', 0.8, '0.9000'),
    (IMG_B, 21, 5, 'ball', 'color', 'red', '?', 0.5, ''),
    (IMG_B, 22, 6, 'cube', 'size', 'large', 'small', 0.4, '0.5500'),
    # F1 2/3: right for the attribute-aware AP, but not the true set
    (
        IMG_B,
        22,
        6,
        'cube',
        'pattern',
        'dotted',
        'striped;dotted',
        0.4,
        '0.6000;0.8000',
    ),
]


def test_matched_pairs_leave_out_the_duplicate_and_the_stray():
    m = matched_attributes(evaluate(errors_case))
    pairs = sorted(zip(m.gt_ids.tolist(), m.result_ids.tolist()))
    # r4 (no cube there) and r7 (duplicate of r6 on g22) are not located
    assert pairs == [(11, 1), (12, 2), (13, 3), (21, 5), (22, 6)]


def test_confusion_matrices_are_the_hand_counts():
    ev = evaluate(errors_case)
    m = matched_attributes(ev)
    color = attr_confusion_matrix(ev, m, 'color')
    assert color['counts'].tolist() == COLOR
    assert color['rows'] == ['red', 'green', 'blue', 'unknown']
    assert color['cols'] == ['red', 'green', 'blue', 'none']
    assert attr_confusion_matrix(ev, m, 'size')['counts'].tolist() == SIZE_CM
    # the known rows give the metric's accuracy: 2 of 4 for both groups
    scores = ev.attribute_scores()
    for group, counts in (('color', COLOR), ('size', SIZE_CM)):
        counts = np.array(counts)
        acc = np.trace(counts[:-1, :-1]) / counts[:-1].sum()
        assert acc == pytest.approx(scores[group][1]) == 0.5
    with pytest.raises(ValueError, match='multi-label'):
        attr_confusion_matrix(ev, m, 'pattern')
    with pytest.raises(KeyError, match='not declared'):
        attr_confusion_matrix(ev, m, 'shape')


def test_multilabel_value_scores_are_the_hand_counts():
    ev = evaluate(errors_case)
    s = attr_value_scores(ev, matched_attributes(ev), 'pattern')
    # known pairs (true/predicted): [striped]/[striped], []/[dotted],
    # [s,d]/[s,d], [dotted]/[s,d]; g21 (unknown pattern) left out
    assert s['tp'].tolist() == [2, 2]
    assert s['fp'].tolist() == [1, 1]
    assert s['fn'].tolist() == [0, 0]
    assert s['support'].tolist() == [2, 2]
    np.testing.assert_allclose(s['precision'], [2 / 3, 2 / 3])
    np.testing.assert_allclose(s['recall'], [1.0, 1.0])
    np.testing.assert_allclose(s['f1'], [0.8, 0.8])
    # their mean is the metric's macro F1
    assert np.mean(s['f1']) == pytest.approx(
        ev.attribute_scores()['pattern'][1]
    )


def test_single_label_value_scores_one_against_the_rest():
    ev = evaluate(errors_case)
    s = attr_value_scores(ev, matched_attributes(ev), 'color')
    # red: r1 right, r5 predicts none -> TP 1, FN 1; green: missed once;
    # blue: right once (g13), predicted once for green (FP)
    assert s['tp'].tolist() == [1, 0, 1]
    assert s['fp'].tolist() == [0, 0, 1]
    assert s['fn'].tolist() == [1, 1, 0]
    assert np.isnan(s['precision'][1])  # green never predicted


def test_attribute_errors_are_the_hand_derived_rows():
    ev = evaluate(errors_case)
    rows = attribute_errors(ev)
    got = [
        (
            r['image_id'],
            r['annotation_id'],
            r['result_id'],
            r['category'],
            r['group'],
            r['true'],
            r['predicted'],
            r['score'],
            r['value_score'],
        )
        for r in rows
    ]
    assert got == ERRORS
    assert rows[0]['file_name'] == f'img{IMG_A}.png'
    assert rows[2]['f1'] == 0.0  # [] against [dotted]
    assert worst_images(rows) == [(IMG_A, 3), (IMG_B, 3)]  # tie: by id
    assert worst_images(rows, 1) == [(IMG_A, 3)]


def test_pr_curve_points_are_the_hand_computed_precision():
    ev = evaluate(pr_case)
    curves = pair_pr_curves(ev, 'size', iou_thr=0.5)
    assert curves['categories'] == ['cube', 'ball']
    assert curves['values'] == ['small', 'large']
    # (cube, small): ranked by p(small) .9 TP, .7 FP (nothing), .6 FP
    # (the large cube is not a positive), .2 TP -> precision 1, 1/2, 1/3,
    # 1/2 at recall 1/2, 1/2, 1/2, 1; interpolated: 1 up to recall 0.50,
    # then 0.5
    small = np.r_[np.ones(51), np.full(50, 0.5)]
    np.testing.assert_allclose(curves['precision'][0, 0], small)
    # (cube, large): .8 FP, .4 TP, .3 FP, .1 FP -> 0.5 at every recall
    np.testing.assert_allclose(curves['precision'][0, 1], np.full(101, 0.5))
    assert np.isnan(curves['precision'][1]).all()  # no ball
    np.testing.assert_allclose(curves['mean'], curves['precision'][0])
    np.testing.assert_allclose(curves['recall'], np.linspace(0, 1, 101))
    # every box is exact: the same at every IoU threshold
    ap = pair_value_ap(ev)
    assert list(ap) == [('size', 'small'), ('size', 'large')]
    assert ap[('size', 'small')] == pytest.approx(76 / 101)
    assert ap[('size', 'large')] == pytest.approx(0.5)
    with pytest.raises(ValueError, match='not one of the IoU'):
        pair_pr_curves(ev, 'size', iou_thr=0.42)


# ----------------------------------------------------------------- tools
def test_confusion_tool_writes_hand_counts_and_pictures(tmp_path):
    gt, res = write_case(str(tmp_path), errors_case())
    out = tmp_path / 'out'
    data = load_tool('attr_confusion_matrix').main([gt, res, str(out)])
    assert data['groups']['color']['counts'] == COLOR
    assert data['groups']['size']['counts'] == SIZE_CM
    assert data['groups']['pattern']['f1'] == [0.8, 0.8]
    saved = json.loads((out / 'attr_confusion.json').read_text())
    assert saved['groups']['color']['accuracy'] == 0.5
    for name in ('confusion_color', 'confusion_size', 'value_scores_pattern'):
        img = cv2.imread(str(out / f'{name}.png'))
        assert img is not None and img.shape[0] > 100


def test_confusion_tool_score_threshold(tmp_path):
    gt, res = write_case(str(tmp_path), errors_case())
    data = load_tool('attr_confusion_matrix').main(
        [gt, res, str(tmp_path / 'out'), '--score-thr', '0.75']
    )
    # only r1 (0.9) and r2 (0.8) are left: red->red, green->blue
    counts = np.zeros((4, 4), int)
    counts[0, 0] = counts[1, 2] = 1
    assert data['groups']['color']['counts'] == counts.tolist()


def test_pr_tool_writes_the_curves(tmp_path):
    gt, res = write_case(str(tmp_path), pr_case())
    out = tmp_path / 'out'
    data = load_tool('attr_pr_curves').main([gt, res, str(out)])
    curve = data['pr_curves']['size']['precision'][0]
    assert curve[0] == [1.0] * 51 + [0.5] * 50
    assert data['pr_curves']['size']['precision'][1] == [None, None]
    assert [(v['value'], v['ap']) for v in data['value_ap']] == [
        ('large', 0.5),
        ('small', round(76 / 101, 4)),
    ]
    for name in ('pr_color', 'pr_size', 'pr_pattern', 'value_ap'):
        assert cv2.imread(str(out / f'{name}.png')) is not None


def write_images(folder):
    for img_id in (IMG_A, IMG_B):
        cv2.imwrite(
            osp.join(folder, f'img{img_id}.png'),
            np.full((SIZE, SIZE, 3), 128, np.uint8),
        )


def test_worst_images_tool_csv_and_panels(tmp_path):
    gt, res = write_case(str(tmp_path), errors_case())
    write_images(str(tmp_path))
    out = tmp_path / 'out'
    load_tool('attr_worst_images').main(
        [gt, res, str(out), '--img-dir', str(tmp_path), '--num', '2']
    )
    with open(out / 'attribute_errors.csv') as f:
        rows = list(csv.DictReader(f))
    got = [
        (
            int(r['image_id']),
            int(r['annotation_id']),
            int(r['result_id']),
            r['category'],
            r['group'],
            r['true'],
            r['predicted'],
            float(r['score']),
            r['value_score'],
        )
        for r in rows
    ]
    assert got == ERRORS
    panels = sorted(p.name for p in (out / 'worst').iterdir())
    assert panels == [
        f'001_img{IMG_A}_3errors.png',
        f'002_img{IMG_B}_3errors.png',
    ]
    panel = cv2.imread(str(out / 'worst' / panels[0]))
    # ground truth and prediction side by side (enlarged), then a caption
    assert panel.shape[1] == 2 * panel.shape[1] // 2
    assert panel.shape[0] > panel.shape[1] // 2
    red = (panel[..., 2] > 200) & (panel[..., 1] < 80) & (panel[..., 0] < 80)
    assert red.sum() > 100  # the highlighted boxes


def test_worst_images_tool_needs_the_images(tmp_path):
    gt, res = write_case(str(tmp_path), errors_case())
    tool = load_tool('attr_worst_images')
    with pytest.raises(SystemExit, match='--img-dir'):
        tool.main([gt, res, str(tmp_path / 'out')])
    # the CSV is written before
    assert (tmp_path / 'out' / 'attribute_errors.csv').is_file()


CONFIG = """
custom_imports = dict(imports=['mmmultilabel'], allow_failed_imports=False)
default_scope = 'mmdet'
test_dataloader = dict(dataset=dict(
    type='AttrCocoDataset',
    ann_file='{gt}',
    data_prefix=dict(img='{img_dir}/'),
    metainfo=dict(classes=('cube', 'ball'), attribute_groups={groups}),
    test_mode=True,
    pipeline=[]))
test_evaluator = dict(type='AttrCocoMetric', ann_file='{gt}')
"""


def dump_samples(results, path, img_dir):
    """The data samples that tools/test.py --out would dump."""
    spec = AttributeSpec(GROUPS)
    labels = {3: 0, 7: 1}  # category id -> class index
    samples = []
    for img_id in (IMG_A, IMG_B):
        res = [r for r in results if r['image_id'] == img_id]
        scores = []
        for r in res:
            row = np.zeros(spec.num_values, np.float32)
            for name, probs in r['attribute_scores'].items():
                row[spec.score_slices[name]] = probs
            scores.append(row)
        pred = dict(
            bboxes=torch.tensor(
                [
                    [x, y, x + w, y + h]
                    for x, y, w, h in (r['bbox'] for r in res)
                ]
            ),
            scores=torch.tensor([r['score'] for r in res]),
            labels=torch.tensor([labels[r['category_id']] for r in res]),
            masks=[
                dict(
                    size=r['segmentation']['size'],
                    counts=r['segmentation']['counts'].encode(),
                )
                for r in res
            ],
            attr_labels=torch.tensor(
                [spec.encode(r['attributes']) for r in res]
            ),
            attr_scores=torch.from_numpy(np.stack(scores)),
        )
        samples.append(
            dict(
                img_id=img_id,
                img_path=osp.join(img_dir, f'img{img_id}.png'),
                ori_shape=(SIZE, SIZE),
                pred_instances=pred,
            )
        )
    with open(path, 'wb') as f:
        pickle.dump(samples, f)


def test_config_and_pickle_give_the_same_counts(tmp_path):
    gt, res = write_case(str(tmp_path), errors_case())
    write_images(str(tmp_path))
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(CONFIG.format(gt=gt, img_dir=tmp_path, groups=GROUPS))
    pkl = tmp_path / 'preds.pkl'
    dump_samples(errors_case()[1], pkl, str(tmp_path))
    data = load_tool('attr_confusion_matrix').main(
        [str(cfg), str(pkl), str(tmp_path / 'cm')]
    )
    assert data['groups']['color']['counts'] == COLOR
    assert data['groups']['size']['counts'] == SIZE_CM
    # images come from the samples' img_path: no --img-dir needed
    rows = load_tool('attr_worst_images').main(
        [str(cfg), str(pkl), str(tmp_path / 'worst'), '--num', '1']
    )
    assert [(r['annotation_id'], r['group']) for r in rows] == [
        (e[1], e[4]) for e in ERRORS
    ]
    assert len(list((tmp_path / 'worst' / 'worst').iterdir())) == 1


def test_pickle_without_config_is_refused(tmp_path):
    gt, _ = write_case(str(tmp_path), errors_case())
    pkl = tmp_path / 'preds.pkl'
    dump_samples(errors_case()[1], pkl, str(tmp_path))
    with pytest.raises(SystemExit, match='CONFIG'):
        load_tool('attr_pr_curves').main([gt, str(pkl), str(tmp_path / 'o')])


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_random_cases_agree_with_the_metric(seed):
    """On random cases (unknown ground truth, unknown predictions, crowds),
    the matrices and value scores give the metric's accuracy, macro F1 and
    counts, and the pair curves give its per-group object-attribute AP."""
    from attr_eval_cases import make_case

    gt, results = make_case(seed, unknown=0.2)
    with contextlib.redirect_stdout(io.StringIO()):
        ev = evaluate_attr_coco(load_attr_coco_api(gt), results, 'segm')
    m = matched_attributes(ev)
    assert len(m) == len(ev.attr_eval['pairs_matched'][0])
    errors = attribute_errors(ev, m)
    for group, (kind, value, count) in ev.attribute_scores().items():
        s = attr_value_scores(ev, m, group)
        if kind == 'acc':
            counts = attr_confusion_matrix(ev, m, group)['counts']
            assert counts.sum() == len(m)
            assert counts[:-1].sum() == count
            right = np.trace(counts[:-1, :-1])
            assert right / count == pytest.approx(value)
            wrong = sum(r['group'] == group for r in errors)
            assert wrong == count - right
        else:
            occurs = ~np.isnan(s['f1'])
            assert np.mean(s['f1'][occurs]) == pytest.approx(value)
    assert len(errors) > 0 and len(m) > 10
    # the mean of the valid pair precisions of a group's values at every
    # IoU is the metric's <group>_pair_mAP
    for group in ev.spec.names:
        curves = [
            pair_pr_curves(ev, group, float(t))['precision']
            for t in ev.params.iouThrs
        ]
        stacked = np.stack(curves)  # (T, K, V, R)
        mean = np.nanmean(stacked) if (~np.isnan(stacked)).any() else -1
        assert mean == pytest.approx(ev.attr_stats[f'{group}_pair_mAP'])
