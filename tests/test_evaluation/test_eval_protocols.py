"""``--protocol`` of eval_results.py and AttrCocoMetric, result forms, and
one clear message (exit 1) for every bad input, run as a user would."""

import copy
import importlib.util
import json
import math
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from fashionpedia_cases import OFFICIAL_NAMES, chain_case, weighting_case
from mmdet.registry import METRICS
from paco_cases import OFFICIAL_FILE_NUMBERS, hierarchy_case

from mmmultilabel.evaluation import (
    AttributeVocabulary,
    convert_results,
    json_metrics,
)
from mmmultilabel.utils import AttributeSpec, ConfigError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'eval_results.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('eval_results', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_boxes(gt):
    """The same ground truth with ``bbox`` (the canonical form needs it)."""
    gt = copy.deepcopy(gt)
    for ann in gt['annotations']:
        xs, ys = ann['segmentation'][0][0::2], ann['segmentation'][0][1::2]
        ann['bbox'] = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    return gt


def dump(tmp_path, name, data):
    path = str(tmp_path / name)
    with open(path, 'w') as f:
        json.dump(data, f)
    return path


def run_tool(argv, capsys):
    """``main(argv)``: (metrics or exit code, stderr)."""
    try:
        out = load_tool().main(argv)
    except SystemExit as err:
        return err.code, capsys.readouterr().err
    return out, capsys.readouterr().err


def test_fashionpedia_protocol_from_files(tmp_path, capsys):
    gt, res = weighting_case()
    out = str(tmp_path / 'metrics.json')
    metrics, _ = run_tool(
        [
            dump(tmp_path, 'gt.json', gt),
            dump(tmp_path, 'res.json', res),
            '--protocol',
            'fashionpedia',
            '--out',
            out,
            '--ndigits',
            '6',
        ],
        capsys,
    )
    # by hand: 6/11 (see fashionpedia_cases.weighting_case)
    assert metrics['bbox_AP_iou_f1'] == round(6 / 11, 6)
    assert metrics['bbox_AP_iou'] == 1.0
    with open(out) as f:
        assert json.load(f) == metrics
    assert {'bbox_AP_iou_f1_50', 'bbox_AP_iou_75', 'bbox_AP_iou_l'} <= set(
        metrics
    )


def own_form(results):
    """The chain case's results in this project's form, written by hand:
    attr0/attr2 are in group0, attr1/attr3 in group1."""
    own = []
    for r in results:
        r = {k: v for k, v in r.items() if k != 'attribute_ids'}
        own.append(r)
    own[0]['attributes'] = dict(group0=[], group1=['attr1'])
    own[1]['attributes'] = dict(group0=['attr0'], group1=['attr1'])
    for r in own:
        r['attribute_scores'] = {
            g: [float(v in r['attributes'][g]) for v in values]
            for g, values in (
                ('group0', ('attr0', 'attr2')),
                ('group1', ('attr1', 'attr3')),
            )
        }
    return own


def test_attr_protocol_reads_fashionpedia_results(tmp_path, capsys):
    gt, res = chain_case()
    gt_path = dump(tmp_path, 'gt.json', with_boxes(gt))
    native, _ = run_tool([gt_path, dump(tmp_path, 'fp.json', res)], capsys)
    own, _ = run_tool(
        [gt_path, dump(tmp_path, 'own.json', own_form(res))], capsys
    )
    assert native == own
    assert native['bbox_attr_mAP'] > 0
    assert native['bbox_group1_f1'] == 1.0


def test_result_forms_convert_both_ways():
    gt, res = chain_case()
    vocab = AttributeVocabulary(gt)
    own = convert_results(res, vocab, 'own')
    assert own == own_form(res)
    back = convert_results(own, vocab, 'fashionpedia')
    assert [sorted(r['attribute_ids']) for r in back] == [[1], [0, 1]]
    assert all('attributes' not in r for r in back)


@pytest.mark.parametrize(
    'mutate, message',
    [
        # Fashionpedia ids against a ground truth without attribute ids
        ('attr_coco_gt', r'res.json: result #1 \(image id 1\): field '),
        # no attribute field at all: never scored as "no attributes"
        ('no_fields', r'res.json: result #1 \(image id 1\): no attribute'),
        ('unknown_image', 'image id 42, which is not an image of'),
        ('unknown_category', 'category id 99'),
        ('bbox_on_masks', r'--iou-type segm'),
        ('syntax', r'res.json:1:\d+: invalid JSON'),
        ('gt_defect', 'gt.json: 1 annotation defect'),
        ('polygon_mask', r'result #1 .*: field "segmentation": results gi'),
        ('mask_size', r'result #2 .*mask size \[5, 5\] differs'),
    ],
)
def test_bad_input_is_one_message_and_exit_1(
    mutate, message, tmp_path, capsys
):
    gt, res = chain_case()
    gt = with_boxes(gt)
    argv = []
    if mutate == 'attr_coco_gt':
        gt = dict(gt, attribute_groups=[])
        del gt['attributes']
        for ann in gt['annotations']:
            del ann['attribute_ids']
    elif mutate == 'no_fields':
        for r in res:
            del r['attribute_ids']
    elif mutate == 'unknown_image':
        res[1]['image_id'] = 42
    elif mutate == 'unknown_category':
        res[1]['category_id'] = 99
    elif mutate == 'bbox_on_masks':
        for r in res:
            r['segmentation'] = gt['annotations'][0]['segmentation']
            del r['bbox']
        argv = ['--iou-type', 'bbox']
    elif mutate in ('polygon_mask', 'mask_size'):
        rle = dict(size=[100, 100], counts='`h9')  # an empty 100x100 mask
        for r in res:
            r['segmentation'] = dict(rle)
            del r['bbox']
        if mutate == 'polygon_mask':
            res[0]['segmentation'] = gt['annotations'][0]['segmentation']
        else:
            res[1]['segmentation']['size'] = [5, 5]
    elif mutate == 'gt_defect':
        gt['annotations'][0]['category_id'] = 77
    res_path = dump(tmp_path, 'res.json', res)
    if mutate == 'syntax':
        with open(res_path, 'w') as f:
            f.write('[{"image_id": 1,, }]')
    code, err = run_tool(
        [dump(tmp_path, 'gt.json', gt), res_path] + argv, capsys
    )
    assert code == 1
    assert err.count('error:') == 1 and 'Traceback' not in err
    assert re.search(message, err), err


def test_fashionpedia_protocol_errors(tmp_path, capsys):
    gt, res = chain_case()
    gt_path = dump(tmp_path, 'gt.json', gt)
    good = dump(tmp_path, 'good.json', res)
    res[0]['attribute_ids'] = [12]
    code, err = run_tool(
        [gt_path, dump(tmp_path, 'res.json', res), '--protocol',
         'fashionpedia'],
        capsys,
    )  # fmt: skip
    assert code == 1
    assert 'res.json: result #1 (image id 1): field "attribute_ids"' in err
    attr_coco = dict(with_boxes(gt), attribute_groups=[])
    del attr_coco['attributes']
    code, err = run_tool(
        [dump(tmp_path, 'a.json', attr_coco), good, '--protocol',
         'fashionpedia'],
        capsys,
    )  # fmt: skip
    assert code == 1 and 'Fashionpedia form' in err


# -------------------------------------------------------------------- PACO
PACO_DATA = osp.join(REPO, 'tests', 'data', 'paco')
PACO_GT = osp.join(PACO_DATA, 'gt.json')
PACO_RES = osp.join(PACO_DATA, 'results.json')
CONVERTER = osp.join(REPO, 'tools', 'dataset_converters', 'convert_results.py')


def assert_official(metrics, iou_type, ndigits):
    """``metrics`` (tool or metric names) hold PACO's official numbers of
    ``tests/data/paco`` (``paco_cases.OFFICIAL_FILE_NUMBERS``)."""
    for key, value in OFFICIAL_FILE_NUMBERS[iou_type, 300].items():
        assert metrics[f'{iou_type}_{key}'] == pytest.approx(
            round(value, ndigits), abs=1e-12
        ), key


def test_paco_protocol_as_a_command(tmp_path):
    out = str(tmp_path / 'x.json')
    proc = subprocess.run(
        [sys.executable, TOOL, PACO_GT, PACO_RES, '--protocol', 'paco',
         '--out', out, '--ndigits', '6'],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    with open(out) as f:
        metrics = json.load(f)
    assert_official(metrics, 'segm', 6)  # segm: the results have masks


def test_paco_protocol_bbox(capsys):
    metrics, _ = run_tool(
        [PACO_GT, PACO_RES, '--protocol', 'paco', '--iou-type', 'bbox',
         '--ndigits', '6'],
        capsys,
    )  # fmt: skip
    assert_official(metrics, 'bbox', 6)


def test_paco_own_form_results_give_the_official_numbers(tmp_path, capsys):
    own = str(tmp_path / 'own.json')
    spec = importlib.util.spec_from_file_location('convert_results', CONVERTER)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    converted = tool.main([PACO_GT, PACO_RES, own, '--to', 'own'])
    assert 'attribute_probs' not in converted[0]
    # 'white' (id 0) is the first value of 'color' (type list [0, 4, ...])
    with open(PACO_RES) as f:
        native = json.load(f)
    assert (
        converted[0]['attribute_scores']['color'][0]
        == (native[0]['attribute_probs'][0])
    )
    metrics, _ = run_tool(
        [PACO_GT, own, '--protocol', 'paco', '--ndigits', '6'], capsys
    )
    assert_official(metrics, 'segm', 6)
    back = tool.main([PACO_GT, own, str(tmp_path / 'p.json'), '--to', 'paco'])
    assert back == native


def test_paco_nan_is_null_in_the_json(tmp_path, capsys):
    gt, res = hierarchy_case()
    out = str(tmp_path / 'x.json')
    metrics, _ = run_tool(
        [dump(tmp_path, 'gt.json', gt), dump(tmp_path, 'r.json', res),
         '--protocol', 'paco', '--out', out],
        capsys,
    )  # fmt: skip
    # parts have no positive of a material (see paco_cases.hierarchy_case)
    with open(out) as f:
        text = f.read()
    assert '"bbox_obj_attr_part_AP_material": null' in text
    assert json.loads(text) == metrics
    assert metrics['bbox_obj_attr_AP'] == 0.625


def test_pair_map_is_not_paco_obj_attr_ap(tmp_path, capsys):
    """The example of docs/evaluation.md (pair_mAP section)."""
    gt, res = hierarchy_case()
    argv = [dump(tmp_path, 'gt.json', gt), dump(tmp_path, 'r.json', res)]
    attr, _ = run_tool(argv, capsys)
    paco, _ = run_tool(argv + ['--protocol', 'paco'], capsys)
    # flat mean of the pair APs 1, 0.5, 0.5, 1, 0.5 (paco_cases)
    assert attr['bbox_pair_mAP'] == 0.7
    assert paco['bbox_obj_attr_AP'] == 0.625
    assert paco['bbox_obj_attr_part_AP'] == 0.5


DEFECT = r'gt.json: 1 annotation defect\(s\):\n  - '


@pytest.mark.parametrize(
    'mutate, message',
    [
        ('short_probs', r'r.json: result #3 \(image id \d+\): field "attribu'
         r'te_probs" has 15 values, expected 16'),
        ('no_probs', r'r.json: result #2 \(image id \d+\): field "attribute_'
         r'probs" is missing'),
        ('not_paco', DEFECT + r'top level: field "attr_type_to_attr_idxs" '
         'is missing'),
        ('unknown_flag', DEFECT + r'annotation id=\d+: field "unknown_col'),
        ('category', DEFECT + r'annotation id=\d+: category id 77 is not a'),
    ],
)  # fmt: skip
def test_paco_bad_input_is_one_message(mutate, message, tmp_path, capsys):
    with open(PACO_GT) as f:
        gt = json.load(f)
    with open(PACO_RES) as f:
        res = json.load(f)
    if mutate == 'short_probs':
        res[2]['attribute_probs'] = res[2]['attribute_probs'][:-1]
    elif mutate == 'no_probs':
        del res[1]['attribute_probs']
    elif mutate == 'not_paco':
        del gt['attr_type_to_attr_idxs']
    elif mutate == 'unknown_flag':
        del gt['annotations'][0]['unknown_color']
    elif mutate == 'category':
        gt['annotations'][0]['category_id'] = 77
    code, err = run_tool(
        [dump(tmp_path, 'gt.json', gt), dump(tmp_path, 'r.json', res),
         '--protocol', 'paco'],
        capsys,
    )  # fmt: skip
    assert code == 1
    assert 'Traceback' not in err
    assert err.count('error:') == 1, err
    assert re.search(message, err), err


def test_tool_as_a_command(tmp_path):
    gt, res = weighting_case()
    gt_path = dump(tmp_path, 'gt.json', gt)
    res[0]['image_id'] = 5
    proc = subprocess.run(
        [sys.executable, TOOL, gt_path, dump(tmp_path, 'r.json', res),
         '--protocol', 'fashionpedia'],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert 'r.json: result #1 has image id 5' in proc.stderr


# ------------------------------------------------------------------ metric
def samples_of(gt, res, spec):
    """Data samples whose predictions are the results ``res``."""
    classes = [c['name'] for c in gt['categories']]
    names = {a['id']: a['name'] for a in gt['attributes']}
    groups = {a['name']: a['supercategory'] for a in gt['attributes']}
    rows, boxes = [], []
    for r in res:
        attrs = {g.name: [] for g in spec}
        for i in r['attribute_ids']:
            attrs[groups[names[i]]].append(names[i])
        rows.append(spec.encode(attrs))
        x, y, w, h = r['bbox']
        boxes.append([x, y, x + w, y + h])
    pred = dict(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        scores=torch.tensor([r['score'] for r in res]),
        labels=torch.tensor([classes.index(
            next(c['name'] for c in gt['categories']
                 if c['id'] == r['category_id'])) for r in res]),
        attr_labels=torch.tensor(rows),
        attr_scores=torch.tensor(rows, dtype=torch.float32),
    )  # fmt: skip
    img = gt['images'][0]
    return [
        dict(
            img_id=img['id'],
            ori_shape=(img['height'], img['width']),
            pred_instances=pred,
        )
    ]


def test_metric_protocol_fashionpedia(tmp_path):
    gt, res = weighting_case()
    gt = with_boxes(gt)
    ann_file = dump(tmp_path, 'gt.json', gt)
    with pytest.raises(ConfigError, match='give ann_file'):
        METRICS.build(dict(type='FashionpediaMetric'))
    with pytest.raises(TypeError, match='attr_f1_thr'):  # attr's own
        METRICS.build(
            dict(type='FashionpediaMetric', ann_file=ann_file, attr_f1_thr=1)
        )
    metric = METRICS.build(
        dict(type='FashionpediaMetric', ann_file=ann_file, metric='bbox')
    )
    spec = AttributeSpec(
        [
            dict(name='group0', values=['attr0', 'attr2'], multi_label=True),
            dict(name='group1', values=['attr1', 'attr3'], multi_label=True),
        ]
    )
    metric.dataset_meta = dict(
        classes=OFFICIAL_NAMES, attribute_groups=spec.to_list()
    )
    metric.process({}, samples_of(gt, res, spec))
    out = metric.evaluate(size=1)
    assert out['coco/bbox_AP_iou_f1'] == round(6 / 11, 3)
    assert out['coco/bbox_AP_iou'] == 1.0
    assert 'coco/bbox_mAP' not in out


def test_convert_results_tool_round_trip(tmp_path, capsys):
    path = osp.join(REPO, 'tools', 'dataset_converters', 'convert_results.py')
    spec = importlib.util.spec_from_file_location('convert_results', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    gt, res = chain_case()
    gt_path = dump(tmp_path, 'gt.json', gt)
    own_path = str(tmp_path / 'own.json')
    own = tool.main([gt_path, dump(tmp_path, 'fp.json', res), own_path,
                     '--to', 'own'])  # fmt: skip
    assert own == own_form(res)
    back = tool.main([gt_path, own_path, str(tmp_path / 'fp2.json'),
                      '--to', 'fashionpedia'])  # fmt: skip
    assert [sorted(r['attribute_ids']) for r in back] == [[1], [0, 1]]
    res[0]['attribute_ids'] = 'x'
    with pytest.raises(SystemExit) as err:
        tool.main([gt_path, dump(tmp_path, 'bad.json', res), own_path,
                   '--to', 'own'])  # fmt: skip
    assert err.value.code == 1
    assert 'bad.json: result #1 (image id 1): field "attribute_ids"' in (
        capsys.readouterr().err
    )


def paco_samples(gt, results, spec):
    """Data samples whose predictions are the PACO results, per image in
    the order of the file (PACO's pair matching reads that order)."""
    classes = [c['name'] for c in gt['categories']]
    label = {c['id']: n for n, c in enumerate(gt['categories'])}
    # own-form columns: every type's values in attr_type_to_attr_idxs order
    columns = [a for ids in gt['attr_type_to_attr_idxs'].values() for a in ids]
    names = {a['id']: a['name'] for a in gt['attributes']}
    by_img = {}
    for r in results:
        by_img.setdefault(r['image_id'], []).append(r)
    for img in gt['images']:
        by_img.setdefault(img['id'], [])
    images = {img['id']: img for img in gt['images']}
    samples = []
    for img_id, res in by_img.items():
        scores = [[r['attribute_probs'][a] for a in columns] for r in res]
        rows = [
            spec.encode(
                {
                    t: [
                        names[a] for a in ids if r['attribute_probs'][a] >= 0.5
                    ]
                    for t, ids in gt['attr_type_to_attr_idxs'].items()
                }
            )
            for r in res
        ]
        boxes = [
            [x, y, x + w, y + h] for x, y, w, h in (r['bbox'] for r in res)
        ]
        pred = dict(
            bboxes=torch.tensor(boxes, dtype=torch.float64).reshape(-1, 4),
            scores=torch.tensor([r['score'] for r in res],
                                dtype=torch.float64),
            labels=torch.tensor([label[r['category_id']] for r in res],
                                dtype=torch.long),
            attr_labels=torch.tensor(rows, dtype=torch.long).reshape(
                len(res), spec.num_label_columns),
            attr_scores=torch.tensor(scores).reshape(len(res), len(columns)),
        )  # fmt: skip
        if all('segmentation' in r for r in results):
            pred['masks'] = [dict(r['segmentation']) for r in res]
        img = images[img_id]
        samples.append(
            dict(
                img_id=img_id,
                ori_shape=(img['height'], img['width']),
                pred_instances=pred,
            )
        )
    return classes, samples


def paco_metric(gt, results, ann_file, metric, **cfg):
    """PacoMetric run on the results as predictions."""
    names = {a['id']: a['name'] for a in gt['attributes']}
    spec = AttributeSpec(
        [
            dict(name=t, values=[names[a] for a in ids], multi_label=True)
            for t, ids in gt['attr_type_to_attr_idxs'].items()
        ]
    )
    cfg = cfg or dict(type='PacoMetric')
    evaluator = METRICS.build(dict(cfg, ann_file=ann_file, metric=metric))
    classes, samples = paco_samples(gt, results, spec)
    evaluator.dataset_meta = dict(
        classes=classes, attribute_groups=spec.to_list()
    )
    evaluator.process({}, samples)
    return evaluator.evaluate(size=len(samples))


def test_metric_protocol_paco():
    with open(PACO_GT) as f:
        gt = json.load(f)
    with open(PACO_RES) as f:
        results = json.load(f)
    out = paco_metric(gt, results, PACO_GT, ['segm', 'bbox'])
    for iou_type in ('segm', 'bbox'):
        assert_official(
            {k[len('coco/') :]: v for k, v in out.items()}, iou_type, 3
        )
    assert 'coco/segm_mAP' not in out and 'coco/segm_pair_mAP' not in out


def test_metric_protocol_paco_nan(tmp_path):
    gt, res = hierarchy_case()
    out = paco_metric(gt, res, dump(tmp_path, 'gt.json', gt), 'bbox')
    # paco_cases.hierarchy_case: by hand
    assert out['coco/bbox_obj_attr_AP'] == 0.625
    assert out['coco/bbox_obj_attr_part_AP'] == 0.5
    # parts have no positive of a material: NaN, as PACO's code
    assert math.isnan(out['coco/bbox_obj_attr_part_AP_material'])
    assert json_metrics(out)['coco/bbox_obj_attr_part_AP_material'] is None


def test_protocol_argument_builds_the_protocol_metric(tmp_path):
    """A config of the former ``AttrCocoMetric(protocol=...)`` keeps
    working: it builds the protocol's metric, with the same numbers."""
    gt, res = hierarchy_case()
    ann_file = dump(tmp_path, 'gt.json', gt)
    old = dict(
        type='AttrCocoMetric', protocol='paco', classwise=True, iou_thrs=0.5
    )
    with pytest.warns(DeprecationWarning) as record:
        evaluator = METRICS.build(dict(old, ann_file=ann_file))
    (message,) = [str(w.message) for w in record]
    assert "dict(type='PacoMetric', ...)" in message
    assert "ignored: ['classwise', 'iou_thrs']" in message
    assert type(evaluator).__name__ == 'PacoMetric'
    with pytest.warns(DeprecationWarning):
        out = paco_metric(gt, res, ann_file, 'bbox', **old)
    new = paco_metric(gt, res, ann_file, 'bbox')
    assert json_metrics(out) == json_metrics(new)  # NaN as None
    with pytest.raises(ConfigError, match="got 'lvis'"):
        METRICS.build(dict(type='AttrCocoMetric', protocol='lvis'))
