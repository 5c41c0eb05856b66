"""AttrCocoMetric on data samples, its result files and the offline tool."""

import copy
import importlib.util
import json
import logging
import os.path as osp
from collections import defaultdict

import numpy as np
import pycocotools.mask as mask_util
import pytest
import torch
from attr_eval_cases import CLASSES, GROUPS, coco_eval, make_case
from mmdet.registry import METRICS

from mmmultilabel.datasets import AnnotationDefectError
from mmmultilabel.evaluation import AttrCocoMetric, base_metric
from mmmultilabel.evaluation.attr.evaluate import (
    attr_coco_tables,
    evaluate_attr_coco,
)
from mmmultilabel.evaluation.results_io import load_attr_coco_api
from mmmultilabel.utils import AttributeSpec

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MMDET_MAX_DETS = (100, 300, 1000)


def load_tool():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'eval_results.py')
    spec = importlib.util.spec_from_file_location('eval_results', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def to_samples(gt, results, with_attr=True):
    """Data samples as mmengine's Evaluator hands them to ``process``."""
    spec = AttributeSpec(GROUPS)
    cat_index = {c['id']: k for k, c in enumerate(gt['categories'])}
    by_img = defaultdict(list)
    for r in results:
        by_img[r['image_id']].append(r)
    anns = defaultdict(list)
    for a in gt['annotations']:
        anns[a['image_id']].append(a)
    samples = []
    for img in gt['images']:
        rs, h, w = by_img[img['id']], img['height'], img['width']
        masks = np.zeros((len(rs), h, w), dtype=bool)
        for n, r in enumerate(rs):
            masks[n] = mask_util.decode(r['segmentation']).astype(bool)
        pred = dict(
            bboxes=torch.tensor(
                [
                    [x, y, x + bw, y + bh]
                    for x, y, bw, bh in (r['bbox'] for r in rs)
                ],
                dtype=torch.float32,
            ).reshape(-1, 4),
            scores=torch.tensor([r['score'] for r in rs]),
            labels=torch.tensor(
                [cat_index[r['category_id']] for r in rs], dtype=torch.long
            ),
            masks=torch.from_numpy(masks),
        )
        if with_attr:
            pred['attr_labels'] = torch.tensor(
                [spec.encode(r['attributes']) for r in rs], dtype=torch.long
            ).reshape(-1, spec.num_label_columns)
            pred['attr_scores'] = torch.tensor(
                [
                    sum((r['attribute_scores'][g.name] for g in spec), [])
                    for r in rs
                ]
            ).reshape(-1, spec.num_values)
        instances = [
            dict(
                bbox=[x, y, x + bw, y + bh],
                bbox_label=cat_index[a['category_id']],
                mask=a['segmentation'],
                ignore_flag=a['iscrowd'],
                attr_labels=spec.encode(a['attributes']),
            )
            for a in anns[img['id']]
            for x, y, bw, bh in [a['bbox']]
        ]
        samples.append(
            dict(
                img_id=img['id'],
                ori_shape=(h, w),
                pred_instances=pred,
                instances=instances,
            )
        )
    return samples


def run_metric(samples, ann_file=None, **kwargs):
    metric = METRICS.build(
        dict(type='AttrCocoMetric', ann_file=ann_file, **kwargs)
    )
    metric.dataset_meta = dict(classes=CLASSES, attribute_groups=GROUPS)
    order = np.random.default_rng(0).permutation(len(samples))
    for start in range(0, len(samples), 4):  # batches, shuffled order
        metric.process({}, [samples[i] for i in order[start : start + 4]])
    return metric.evaluate(size=len(samples))


def strip(metrics, metric):
    head = f'coco/{metric}_'
    return {
        k[len('coco/') :]: v for k, v in metrics.items() if k.startswith(head)
    }


@pytest.fixture(scope='module')
def case():
    return make_case(20, num_imgs=12, unknown=0.2)


@pytest.fixture
def gt_file(case, tmp_path):
    path = str(tmp_path / 'gt.json')
    with open(path, 'w') as f:
        json.dump(case[0], f)
    return path


def test_metric_is_pycocotools_and_the_tool(case, gt_file, tmp_path, capsys):
    gt, results = case
    prefix = str(tmp_path / 'res')
    out = run_metric(
        to_samples(gt, results),
        gt_file,
        metric=['bbox', 'segm'],
        outfile_prefix=prefix,
        classwise=True,
    )
    for metric in ('bbox', 'segm'):
        with open(f'{prefix}.{metric}.json') as f:
            written = json.load(f)
        assert len(written) == len(results)
        oracle = coco_eval(gt, written, metric, MMDET_MAX_DETS)
        assert out[f'coco/{metric}_mAP'] == round(oracle.stats[0], 3)
        assert out[f'coco/{metric}_mAP_75'] == round(oracle.stats[2], 3)
        # float32 scores keep the order: same AP as the original results
        assert out[f'coco/{metric}_mAP'] == round(
            coco_eval(gt, results, metric, MMDET_MAX_DETS).stats[0], 3
        )
        assert 0 < out[f'coco/{metric}_attr_mAP'] < out[f'coco/{metric}_mAP']
        assert out[f'coco/{metric}_cube_precision'] >= 0
        # the offline tool reports the same numbers under the same names
        tool = load_tool().main(
            [gt_file, f'{prefix}.{metric}.json', '--classwise']
        )
        assert tool == strip(out, metric)
    printed = capsys.readouterr().out
    assert 'attribute groups' in printed and 'object-attribute AP' in printed
    for group in ('color', 'size', 'pattern'):
        assert f'| {group} ' in printed


def test_result_files_carry_attributes(case, gt_file, tmp_path):
    gt, results = case
    prefix = str(tmp_path / 'res')
    run_metric(
        to_samples(gt, results), gt_file, metric='segm', outfile_prefix=prefix
    )
    with open(f'{prefix}.segm.json') as f:
        written = json.load(f)
    key = lambda r: (r['image_id'], round(r['score'], 5))  # noqa: E731
    expected = {key(r): r for r in results}
    for r in written:
        src = expected[key(r)]
        assert r['attributes'] == src['attributes']
        assert set(r['attribute_scores']) == {'color', 'size', 'pattern'}
        for name, probs in r['attribute_scores'].items():
            np.testing.assert_allclose(
                probs, src['attribute_scores'][name], rtol=1e-6
            )
        assert isinstance(r['segmentation']['counts'], str)
        assert len(r['bbox']) == 4


def test_stock_model_without_attribute_fields(case, gt_file, monkeypatch):
    gt, results = case
    calls = []
    monkeypatch.setattr(
        base_metric, 'print_log', lambda *a, **k: calls.append((a, k))
    )
    gt_known = copy.deepcopy(gt)
    for ann in gt_known['annotations']:
        ann['attributes'] = dict(color='red', size='small', pattern=[])
    out = run_metric(
        to_samples(gt_known, results, with_attr=False), None, metric='segm'
    )
    with_attr = run_metric(to_samples(gt_known, results), None, metric='segm')
    assert len(calls) == 1 and calls[0][1]['level'] == logging.WARNING
    assert out['coco/segm_mAP'] == with_attr['coco/segm_mAP'] > 0
    # unknown predictions are never right
    assert out['coco/segm_attr_mAP'] == 0
    assert out['coco/segm_color_acc'] == 0
    assert out['coco/segm_color_num'] == with_attr['coco/segm_color_num'] > 0


def test_ground_truth_from_samples_equals_ann_file(case, gt_file, tmp_path):
    gt, results = case
    samples = to_samples(gt, results)
    from_file = run_metric(samples, gt_file, metric='segm')
    prefix = str(tmp_path / 'res')
    from_samples = run_metric(
        samples, None, metric='segm', outfile_prefix=prefix
    )
    # areas come from boxes there (as in mmdet): compare "all" areas only
    for key, value in from_file.items():
        if not key.endswith(('_s', '_m', '_l')):
            assert from_samples[key] == value, key
    with open(f'{prefix}.gt.json') as f:
        written = json.load(f)
    assert written['attribute_groups'] == AttributeSpec(GROUPS).to_list()
    assert len(written['images']) == len(gt['images'])


def test_image_ids_come_from_the_samples(case, gt_file):
    gt, results = case
    samples = to_samples(gt, results)
    subset = samples[::2]
    out = run_metric(subset, gt_file, metric='bbox')
    ids = [s['img_id'] for s in subset]
    oracle = coco_eval(
        dict(
            gt,
            images=[i for i in gt['images'] if i['id'] in ids],
            annotations=[a for a in gt['annotations'] if a['image_id'] in ids],
        ),
        [r for r in results if r['image_id'] in ids],
        'bbox',
        MMDET_MAX_DETS,
    )
    assert out['coco/bbox_mAP'] == round(oracle.stats[0], 3)

    stranger = copy.deepcopy(samples[:3])
    stranger[1]['img_id'] = 999999
    with pytest.raises(ValueError, match='999999'):
        run_metric(stranger, gt_file, metric='bbox')
    with pytest.raises(ValueError, match='more than once'):
        run_metric(samples[:2] + samples[:1], gt_file, metric='bbox')


def test_no_prediction_at_all(case, gt_file):
    gt, _ = case
    out = run_metric(to_samples(gt, []), gt_file, metric=['bbox', 'segm'])
    assert out['coco/segm_mAP'] == 0.0
    assert out['coco/bbox_attr_mAP'] == 0.0
    assert out['coco/segm_pair_mAP'] == 0.0
    assert out['coco/segm_color_num'] == 0


def test_format_only_writes_files(case, gt_file, tmp_path):
    gt, results = case
    prefix = str(tmp_path / 'only')
    out = run_metric(
        to_samples(gt, results),
        gt_file,
        metric='segm',
        format_only=True,
        outfile_prefix=prefix,
    )
    assert out == {}
    assert osp.exists(f'{prefix}.segm.json')
    assert osp.exists(f'{prefix}.bbox.json')


def test_bad_inputs_are_named(case, gt_file):
    gt, results = case
    samples = to_samples(gt, results)
    bad = samples[0]['pred_instances']
    bad['attr_labels'] = bad['attr_labels'][:, :2]
    with pytest.raises(ValueError, match=f'image id {samples[0]["img_id"]}'):
        run_metric(samples[:1], gt_file, metric='segm')
    with pytest.raises(KeyError, match='proposal'):
        AttrCocoMetric(metric='proposal')
    with pytest.raises(ValueError, match='attr_iou_thr'):
        AttrCocoMetric(iou_thrs=[0.75], attr_iou_thr=0.5)


def test_wide_single_label_group(tmp_path):
    # a converted "subcat" group can have hundreds of values
    groups = [dict(name='subcat', values=[f's{i}' for i in range(200)])]
    seg = mask_util.encode(np.asfortranarray(np.ones((8, 8), np.uint8)))
    seg['counts'] = seg['counts'].decode()
    gt = dict(
        images=[dict(id=1, width=8, height=8, file_name='a.png')],
        categories=[dict(id=1, name='cube')],
        attribute_groups=groups,
        annotations=[
            dict(
                id=1,
                image_id=1,
                category_id=1,
                iscrowd=0,
                bbox=[0.0, 0.0, 8.0, 8.0],
                area=64.0,
                segmentation=seg,
                attributes=dict(subcat='s150'),
            )
        ],
    )
    ann_file = str(tmp_path / 'gt.json')
    with open(ann_file, 'w') as f:
        json.dump(gt, f)
    metric = AttrCocoMetric(
        ann_file=ann_file, metric='segm', outfile_prefix=str(tmp_path / 'res')
    )
    metric.dataset_meta = dict(classes=('cube',), attribute_groups=groups)
    scores = torch.zeros(1, 200)
    scores[0, 150] = 0.9
    metric.process(
        {},
        [
            dict(
                img_id=1,
                ori_shape=(8, 8),
                pred_instances=dict(
                    bboxes=torch.tensor([[0.0, 0.0, 8.0, 8.0]]),
                    scores=torch.tensor([0.8]),
                    labels=torch.tensor([0]),
                    masks=torch.ones(1, 8, 8, dtype=torch.bool),
                    attr_labels=torch.tensor([[150]]),
                    attr_scores=scores,
                ),
            )
        ],
    )
    out = metric.evaluate(size=1)
    assert out['coco/segm_subcat_acc'] == 1.0
    with open(str(tmp_path / 'res.segm.json')) as f:
        assert json.load(f)[0]['attributes'] == dict(subcat='s150')


def test_groups_apply_to_their_categories_only(case, tmp_path):
    """A group limited to some categories: no prediction and no metric for
    the others. Expected: the same metric with those predictions made
    unknown by hand and the group declared for every category."""
    gt, results = copy.deepcopy(case)
    for a in gt['annotations']:
        if a['category_id'] != 1:  # color: cubes only
            a['attributes'].pop('color', None)
    path = str(tmp_path / 'gt.json')
    with open(path, 'w') as f:
        json.dump(gt, f)
    limited = [dict(GROUPS[0], categories=['cube'])] + GROUPS[1:]
    limited_path = str(tmp_path / 'gt_limited.json')
    with open(limited_path, 'w') as f:
        json.dump(dict(gt, attribute_groups=limited), f)
    metric = METRICS.build(
        dict(
            type='AttrCocoMetric',
            ann_file=limited_path,
            metric='segm',
            classwise=True,
            outfile_prefix=str(tmp_path / 'res'),
        )
    )
    metric.dataset_meta = dict(classes=CLASSES, attribute_groups=limited)
    metric.process({}, to_samples(gt, results))
    out = metric.evaluate(size=len(gt['images']))

    by_hand = copy.deepcopy(results)
    for r in by_hand:
        if r['category_id'] != 1:
            r['attributes'].pop('color', None)
    expected = run_metric(
        to_samples(gt, by_hand), path, metric='segm', classwise=True
    )
    assert out == expected
    assert out['coco/segm_color_num'] > 0
    # no pair row of a category the group does not apply to
    tables = attr_coco_tables(
        evaluate_attr_coco(
            load_attr_coco_api(limited_path),
            str(tmp_path / 'res.segm.json'),
            'segm',
        )
    )
    pair_rows = {
        tuple(cell.strip() for cell in line.split('|')[1:3])
        for line in tables[-1].splitlines()
        if line.count('|') == 7
    }
    assert {('cube', 'color'), ('ball', 'size')} <= pair_rows
    assert ('ball', 'color') not in pair_rows
    # the results files: the group only on cubes, values and scores
    with open(str(tmp_path / 'res.segm.json')) as f:
        written = json.load(f)
    for r in written:
        has = r['category_id'] == 1
        assert ('color' in r['attribute_scores']) == has
        if not has:
            assert 'color' not in r['attributes']
    assert any(r['category_id'] == 1 for r in written)


def test_cvat_coco_ground_truth_takes_the_data_set_groups(
    case, gt_file, tmp_path
):
    """CVAT's COCO 1.0 declares no groups: the metric reads it with those
    of ``dataset_meta``, and gives what the same file with its groups
    gives; without groups it stops with the fix."""
    gt, results = case
    cvat = copy.deepcopy(gt)
    del cvat['attribute_groups']
    for a in cvat['annotations']:
        a['attributes'] = dict(a.get('attributes') or {}, occluded=False)
    path = str(tmp_path / 'instances_default.json')
    with open(path, 'w') as f:
        json.dump(cvat, f)
    samples = to_samples(gt, results)
    assert run_metric(samples, path, metric='segm') == run_metric(
        samples, gt_file, metric='segm'
    )
    metric = METRICS.build(dict(type='AttrCocoMetric', ann_file=path))
    metric.dataset_meta = dict(classes=CLASSES)
    with pytest.raises(AnnotationDefectError, match='give attribute_groups'):
        metric.process({}, samples[:1])
