"""Shared fixtures: mmdet's own Mask2Former config shrunk to run on a CPU."""

import os
import os.path as osp

import pytest
import torch
from mmdet.utils import register_all_modules
from mmengine.config import Config

import mmmultilabel  # noqa: F401  (registers modules)

# As mmdet's own tests do: all mmdet modules, default scope "mmdet".
register_all_modules(init_default_scope=True)

MASK2FORMER_INSTANCE_CFG = 'mask2former/mask2former_r50_8xb2-lsj-50e_coco.py'


def mmdet_config_path(rel_path: str) -> str:
    """Path of a config shipped inside the installed mmdet package."""
    import mmdet

    return osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs', rel_path)


def shrink_mask2former(model: dict, num_classes: int = 3) -> dict:
    """Shrink a Mask2Former model config for CPU tests, in place.

    ResNet-18 from scratch (no torchvision weights), 64 channels, 10 queries,
    2 decoder layers, 1 encoder layer, few sampled points, and no 1024x1024
    batch padding.
    """
    model['init_cfg'] = None
    model['data_preprocessor']['batch_augments'] = None
    model['backbone'].update(depth=18, init_cfg=None)
    head = model['panoptic_head']
    head.update(
        in_channels=[64, 128, 256, 512],
        feat_channels=64,
        out_channels=64,
        num_queries=10,
        num_things_classes=num_classes,
        num_stuff_classes=0,
    )
    head['loss_cls']['class_weight'] = [1.0] * num_classes + [0.1]
    enc = head['pixel_decoder']['encoder']
    enc['num_layers'] = 1
    enc['layer_cfg']['self_attn_cfg'].update(embed_dims=64, num_heads=4)
    enc['layer_cfg']['ffn_cfg'].update(embed_dims=64, feedforward_channels=128)
    head['pixel_decoder']['positional_encoding']['num_feats'] = 32
    head['positional_encoding']['num_feats'] = 32
    dec = head['transformer_decoder']
    dec['num_layers'] = 2
    for key in ('self_attn_cfg', 'cross_attn_cfg'):
        dec['layer_cfg'][key].update(embed_dims=64, num_heads=4)
    dec['layer_cfg']['ffn_cfg'].update(embed_dims=64, feedforward_channels=128)
    model['panoptic_fusion_head'].update(
        num_things_classes=num_classes, num_stuff_classes=0
    )
    model['train_cfg']['num_points'] = 256
    model['test_cfg']['max_per_image'] = 10
    return model


@pytest.fixture
def mask2former_cfg() -> Config:
    """mmdet's Mask2Former instance-segmentation config, shrunk for CPU."""
    cfg = Config.fromfile(mmdet_config_path(MASK2FORMER_INSTANCE_CFG))
    shrink_mask2former(cfg.model)
    return cfg


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope='session')
def _cache_dir(tmp_path_factory):
    """Data sets record validated files in a folder of the test session
    (also for the tools the tests run), not in the user's cache."""
    os.environ['MMMULTILABEL_CACHE_DIR'] = str(
        tmp_path_factory.mktemp('cache')
    )
