"""Fixtures of the inference tests (helpers in ``attr_infer_utils``)."""

import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from attr_infer_utils import attr_config, save_checkpoint
from mmdet.registry import MODELS


@pytest.fixture(scope='session')
def _files_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('attr_model')


@pytest.fixture
def attr_files(mask2former_cfg, _files_dir):
    """Paths ``(config, checkpoint)`` of the tiny attribute model.

    Written once per session (the config fixture is per test).
    """
    cfg_path = osp.join(_files_dir, 'mask2former-attr_tiny.py')
    ckpt_path = osp.join(_files_dir, 'tiny.pth')
    if not osp.isfile(ckpt_path):
        cfg = attr_config(mask2former_cfg)
        cfg.dump(cfg_path)
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        save_checkpoint(model, ckpt_path)
    return cfg_path, ckpt_path


@pytest.fixture
def images_dir(tmp_path):
    """A folder of three small odd-sized images with coloured shapes."""
    rng = np.random.RandomState(0)
    for i, (h, w) in enumerate(((45, 61), (64, 50), (37, 37))):
        img = np.full((h, w, 3), 40, np.uint8)
        y, x = rng.randint(0, h // 2), rng.randint(0, w // 2)
        img[y : y + h // 2, x : x + w // 2] = rng.randint(0, 256, 3)
        mmcv.imwrite(img, str(tmp_path / f'img{i}.png'))
    return tmp_path
