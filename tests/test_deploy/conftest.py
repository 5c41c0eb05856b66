"""Fixtures of the deployment tests: the tiny attribute model (config and
checkpoint) and its ONNX exports, written once per session."""

import os.path as osp

import pytest
import torch
from deploy_utils import export_tool
from mmdet.registry import MODELS
from test_apis.attr_infer_utils import attr_config, save_checkpoint


@pytest.fixture(scope='session')
def _deploy_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('deploy')


@pytest.fixture
def tiny_files(mask2former_cfg, _deploy_dir):
    """Paths ``(config, checkpoint)`` of the tiny attribute model (64-pixel
    test pipeline, random weights)."""
    cfg_path = osp.join(_deploy_dir, 'mask2former-attr_tiny.py')
    ckpt_path = osp.join(_deploy_dir, 'tiny.pth')
    if not osp.isfile(ckpt_path):
        cfg = attr_config(mask2former_cfg)
        cfg.dump(cfg_path)
        torch.manual_seed(0)
        save_checkpoint(MODELS.build(cfg.model), ckpt_path)
    return cfg_path, ckpt_path


def _exported(tiny_files, deploy_dir, name, *options) -> str:
    out = osp.join(deploy_dir, name)
    if not osp.isfile(out):
        assert export_tool.main([*tiny_files, out, *options]) == 0
    return out


@pytest.fixture
def static_onnx(tiny_files, _deploy_dir):
    """The tiny model exported for a fixed 1 x 3 x 64 x 64 input."""
    return _exported(
        tiny_files, _deploy_dir, 'static.onnx', '--shape', '64', '64'
    )


@pytest.fixture
def dynamic_onnx(tiny_files, _deploy_dir):
    """The tiny model exported with dynamic batch, height and width."""
    return _exported(tiny_files, _deploy_dir, 'dynamic.onnx', '--dynamic')


@pytest.fixture
def torch_model(tiny_files):
    """The PyTorch detector with the checkpoint's weights, in eval mode."""
    from mmengine.config import Config

    cfg = Config.fromfile(tiny_files[0])
    model = MODELS.build(cfg.model)
    state = torch.load(tiny_files[1], weights_only=True)['state_dict']
    model.load_state_dict(state)
    return model.eval()
