"""``tools/deployment/onnx_parity.py`` on a small model with random weights
and four generated shapes images.

The expected metrics are those of mmengine's test loop (``runner.test()``)
run once with the PyTorch checkpoint and once with the ONNX model as the
config's model; a graph exported from other weights must miss the targets.
So that the metrics are not all zero, the ground truth of the images is
replaced by the three best instances that the PyTorch model predicts on
each.
"""

import json
import os.path as osp
import sys

import pycocotools.mask as mask_util
import pytest
import torch
from deploy_utils import export_tool, parity_tool
from mmdet.registry import MODELS
from mmengine.config import Config
from test_tools.tools_utils import CPU_CONFIG, run

from mmmultilabel.apis import AttrInferencer
from mmmultilabel.engine import build_runner
from mmmultilabel.evaluation import json_metrics

# the metrics of the first two tests are floats that torch's forward pass
# decides
numeric = pytest.mark.numeric


def _small_config(data_root: str) -> Config:
    """The demo config, shrunk (10 queries, 2 decoder layers, 1 encoder
    layer, images resized to 64 pixels), on ``data_root``'s val split."""
    cfg = Config.fromfile(CPU_CONFIG)
    root = f'{data_root}/'
    options = {
        'model.panoptic_head.num_queries': 10,
        'model.panoptic_head.transformer_decoder.num_layers': 2,
        'model.panoptic_head.pixel_decoder.encoder.num_layers': 1,
        'model.test_cfg.max_per_image': 10,
        'test_evaluator.ann_file': f'{root}annotations/val.json',
    }
    cfg.merge_from_dict(options)
    pipeline = list(cfg.test_dataloader.dataset.pipeline)
    pipeline.insert(1, dict(type='Resize', scale=(64, 64), keep_ratio=True))
    cfg.test_dataloader = dict(
        batch_size=1,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(cfg.test_dataloader.dataset, data_root=root),
    )
    cfg.test_dataloader.dataset.pipeline = pipeline
    return cfg


def _predictions_as_ground_truth(cfg_path, ckpt, ann_file, img_dir):
    """Replace the annotations of ``ann_file`` with the 3 best-scored
    instances the model predicts per image (masks as RLE)."""
    with open(ann_file) as f:
        coco = json.load(f)
    inferencer = AttrInferencer(
        cfg_path, ckpt, device='cpu', show_progress=False
    )
    anns = []
    for img in coco['images']:
        record = inferencer(
            osp.join(img_dir, img['file_name']), score_thr=0.0
        )['predictions'][0]
        best = sorted(record['instances'], key=lambda i: -i['score'])[:3]
        for inst in best:
            x1, y1, x2, y2 = inst['bbox']
            attributes = {
                group: attr['value']
                for group, attr in inst['attributes'].items()
                if attr['value'] is not None
            }
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=img['id'],
                    category_id=inst['category_id'] + 1,
                    segmentation=inst['mask'],
                    area=int(mask_util.area(inst['mask'])),
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    iscrowd=0,
                    attributes=attributes,
                )
            )
    coco['annotations'] = anns
    with open(ann_file, 'w') as f:
        json.dump(coco, f)


@pytest.fixture(scope='module')
def parity_files(tmp_path_factory):
    """Config, the checkpoint of seed 0, and static 1x3x64x64 graphs of
    seeds 0 and 1 (other weights)."""
    tmp = tmp_path_factory.mktemp('parity')
    run(
        [
            sys.executable,
            'tools/dataset_converters/make_shapes.py',
            tmp / 'shapes',
            '--num-train',
            1,
            '--num-val',
            4,
            '--seed',
            1,
            '--no-progress',
        ]
    )
    cfg = _small_config(str(tmp / 'shapes'))
    cfg_path = str(tmp / 'mask2former-attr_small_shapes.py')
    cfg.dump(cfg_path)
    # plain lists and dicts, as a checkpoint of tools/train.py holds them
    meta = json.loads(json.dumps(cfg.test_dataloader.dataset.metainfo))
    files = dict(config=cfg_path)
    for seed in (0, 1):
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
        ckpt = str(tmp / f'seed{seed}.pth')
        torch.save(
            dict(meta=dict(dataset_meta=meta), state_dict=model.state_dict()),
            ckpt,
        )
        onnx_file = str(tmp / f'seed{seed}.onnx')
        assert (
            export_tool.main(
                [cfg_path, ckpt, onnx_file, '--shape', '64', '64']
            )
            == 0
        )
        files[f'ckpt{seed}'], files[f'onnx{seed}'] = ckpt, onnx_file
    _predictions_as_ground_truth(
        cfg_path,
        files['ckpt0'],
        str(tmp / 'shapes' / 'annotations' / 'val.json'),
        str(tmp / 'shapes' / 'val'),
    )
    return files


def _test_loop_metrics(cfg_path: str, work_dir: str, **model) -> dict:
    """Metrics of mmengine's test loop, with the config's model or with
    ``model`` (e.g. the ONNX model) instead."""
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = work_dir
    if 'load_from' in model:
        cfg.load_from = model.pop('load_from')
    if model:
        cfg.model = model
        # the ONNX model runs the data preprocessor stored in its file; the
        # Runner would pass it the config's top-level one
        cfg.data_preprocessor = None
    return json_metrics(build_runner(cfg).test())


@numeric
def test_report_matches_the_test_loop_of_each_backend(
    parity_files, tmp_path, capsys
):
    out = str(tmp_path / 'parity.json')
    args = [parity_files['config'], parity_files['ckpt0']]
    assert parity_tool.main([*args, parity_files['onnx0'], '--out', out]) == 0
    assert 'parity: every target met' in capsys.readouterr().out
    with open(out) as f:
        report = json.load(f)

    expected = dict(
        pytorch=_test_loop_metrics(
            parity_files['config'],
            str(tmp_path / 'pytorch'),
            load_from=parity_files['ckpt0'],
        ),
        onnxruntime=_test_loop_metrics(
            parity_files['config'],
            str(tmp_path / 'onnx'),
            type='OnnxAttrMask2Former',
            onnx_file=parity_files['onnx0'],
        ),
    )
    metrics = report['metrics']
    assert 'coco/segm_mAP' in metrics and 'coco/segm_pattern_f1' in metrics
    for backend, values in expected.items():
        assert set(metrics) == set(values)
        for key, value in values.items():
            assert metrics[key][backend] == value, (backend, key)

    assert report['images'] == 4
    # 10 queries x 3 classes, the 10 best kept per image
    assert report['instances']['instances'] == 4 * 10
    assert report['instances']['category_mismatches'] == 0
    assert report['instances']['attribute_mismatches'] == 0
    assert report['instances']['mask_iou_min'] >= 0.99
    names = ['cls_logits', 'attr_color', 'attr_size', 'attr_pattern']
    assert list(report['logits']) == [*names, 'mask_logits']
    assert all(report['logits'][n]['max'] <= 1e-3 for n in names)
    assert report['failed'] == []


@numeric
def test_graph_of_other_weights_misses_the_targets(
    parity_files, tmp_path, capsys
):
    out = str(tmp_path / 'parity.json')
    args = [parity_files['config'], parity_files['ckpt0']]
    assert parity_tool.main([*args, parity_files['onnx1'], '--out', out]) == 1
    assert 'parity: targets missed: cls_logits' in capsys.readouterr().out
    with open(out) as f:
        report = json.load(f)
    assert report['logits']['cls_logits']['max'] > 1e-3
    assert report['instances']['mask_iou_min'] < 0.99
    assert osp.basename(report['onnx']) == 'seed1.onnx'


def test_graph_of_other_attribute_groups_is_refused(
    parity_files, static_onnx, capsys
):
    # the tiny model of the other deployment tests: the same classes,
    # other attribute values
    args = [parity_files['config'], parity_files['ckpt0'], static_onnx]
    assert parity_tool.main(args) == 2
    err = capsys.readouterr().err
    assert 'static.onnx was exported from a model with other ' in err
    assert "attribute_groups ([{'name': 'color', " in err
    assert "'values': ['red', 'green', 'blue']," in err
    assert 'seed0.pth' in err


def test_existing_report_is_kept_unless_forced(parity_files, tmp_path, capsys):
    out = tmp_path / 'parity.json'
    out.write_text('{"mine": 1}')
    args = [
        parity_files['config'],
        parity_files['ckpt0'],
        parity_files['onnx0'],
    ]
    assert parity_tool.main([*args, '--out', str(out)]) == 2
    assert '--force' in capsys.readouterr().err
    assert out.read_text() == '{"mine": 1}'
