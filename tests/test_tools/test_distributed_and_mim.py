"""Distributed CPU training, `mim train/test mmmultilabel`, and use of our
modules from an outside config through `custom_imports` with mmdet's own
tools."""

import os.path as osp
import socket
import sys

from tools_utils import CPU_CONFIG, fast_options, run

MIM = osp.join(osp.dirname(sys.executable), 'mim')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_two_cpu_processes(shapes_root, tmp_path):
    work = tmp_path / 'work'
    proc = run(
        [
            'bash',
            'tools/dist_train.sh',
            CPU_CONFIG,
            2,
            '--work-dir',
            work,
            '--cfg-options',
            *fast_options(shapes_root, max_iters=2, interval=2),
        ],
        env=dict(PYTHON=sys.executable, PORT=str(_free_port())),
        timeout=240,
    )
    log = proc.stdout + proc.stderr
    # mmengine logs the world size as 'GPU number', also on CPU.
    assert 'Distributed launcher: pytorch' in log
    assert 'GPU number: 2' in log
    assert 'gloo' in log
    assert 'Iter(train) [2/2]' in log
    assert (work / 'iter_2.pth').is_file()


def test_mim_train_and_test_from_another_directory(shapes_root, tmp_path):
    work = tmp_path / 'work'
    cfg_name = osp.basename(CPU_CONFIG)
    opts = fast_options(shapes_root, max_iters=1, interval=1)
    run(
        [
            MIM,
            'train',
            'mmmultilabel',
            cfg_name,
            '--work-dir',
            work,
            '--cfg-options',
            *opts,
        ],
        cwd=tmp_path,
    )
    assert (work / 'iter_1.pth').is_file()
    proc = run(
        [
            MIM,
            'test',
            'mmmultilabel',
            cfg_name,
            '--checkpoint',
            work / 'iter_1.pth',
            '--work-dir',
            work,
            '--cfg-options',
            *opts,
        ],
        cwd=tmp_path,
    )
    assert 'coco/segm_mAP' in proc.stdout + proc.stderr


EXTERNAL_CONFIG = """
_base_ = 'mmdet::mask2former/mask2former_r50_8xb2-lsj-50e_coco.py'
custom_imports = dict(imports=['mmmultilabel'], allow_failed_imports=False)

data_root = '{data_root}/'
classes = ('circle', 'square', 'triangle')
groups = [
    dict(name='color', values=['red', 'green', 'blue', 'yellow']),
    dict(name='size', values=['small', 'medium', 'large']),
    dict(name='pattern', values=['striped', 'dotted', 'outlined'],
         multi_label=True),
]
model = dict(
    data_preprocessor=dict(batch_augments=None),
    backbone=dict(depth=18, init_cfg=None),
    panoptic_head=dict(
        type='AttrMask2FormerHead', attribute_groups=groups,
        in_channels=[64, 128, 256, 512], feat_channels=32, out_channels=32,
        num_queries=8, num_things_classes=3,
        loss_cls=dict(class_weight=[1.0] * 3 + [0.1]),
        pixel_decoder=dict(
            encoder=dict(num_layers=1, layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=32, num_heads=4),
                ffn_cfg=dict(embed_dims=32, feedforward_channels=64))),
            positional_encoding=dict(num_feats=16)),
        positional_encoding=dict(num_feats=16),
        transformer_decoder=dict(num_layers=1, layer_cfg=dict(
            self_attn_cfg=dict(embed_dims=32, num_heads=4),
            cross_attn_cfg=dict(embed_dims=32, num_heads=4),
            ffn_cfg=dict(embed_dims=32, feedforward_channels=64)))),
    panoptic_fusion_head=dict(
        type='AttrMaskFormerFusionHead', num_things_classes=3,
        attribute_groups=groups),
    train_cfg=dict(num_points=256, assigner=dict(match_costs=[
        dict(type='ClassificationCost', weight=2.0),
        dict(type='CrossEntropyLossCost', weight=5.0, use_sigmoid=True),
        dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0),
        dict(type='AttrClassificationCost', weight=1.0),
        dict(type='AttrBinaryCrossEntropyCost', weight=1.0)])),
    test_cfg=dict(max_per_image=10))
pipeline = [
    dict(type='LoadImageFromFile', to_float32=True),
    dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackAttrDetInputs'),
]
dataset = dict(type='AttrCocoDataset', data_root=data_root,
               metainfo=dict(classes=classes, attribute_groups=groups),
               pipeline=pipeline)
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(dataset, ann_file='annotations/train.json',
                 data_prefix=dict(img='train/')))
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(dataset, ann_file='annotations/val.json',
                 data_prefix=dict(img='val/'), test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='AttrCocoMetric',
                     ann_file=data_root + 'annotations/val.json',
                     metric=['segm'])
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=2,
                 val_interval=2)
default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
"""


def test_custom_imports_config_trains_with_mim_train_mmdet(
    shapes_root, tmp_path
):
    cfg_file = tmp_path / 'my_attr_config.py'
    cfg_file.write_text(EXTERNAL_CONFIG.format(data_root=shapes_root))
    work = tmp_path / 'work'
    proc = run(
        [MIM, 'train', 'mmdet', cfg_file, '--work-dir', work], cwd=tmp_path
    )
    log = proc.stdout + proc.stderr
    assert 'loss_attr_color' in log
    assert 'coco/segm_mAP' in log
    assert (work / 'iter_2.pth').is_file()
