"""Fixtures of the InverseForm tests: label maps and IF-Net checkpoints."""

import cv2
import numpy as np
import pytest
import torch
from inverseform_utils import TILE, draw_label_map, load_tool, one_thread

from mmmultilabel.models.losses.inverseform_net import InverseFormNet


@pytest.fixture(autouse=True)
def _one_thread():
    with one_thread():
        yield


@pytest.fixture(scope='session')
def label_dir(tmp_path_factory):
    """16 random 64x64 label PNGs of discs and squares."""
    out = tmp_path_factory.mktemp('labels')
    rng = np.random.RandomState(0)
    for i in range(16):
        shapes = [
            (
                int(rng.randint(1, 3)),
                *map(int, rng.randint(12, 52, 2)),
                int(rng.randint(6, 14)),
            )
            for _ in range(rng.randint(1, 3))
        ]
        cv2.imwrite(str(out / f'{i:03d}.png'), draw_label_map(64, shapes))
    return out


@pytest.fixture(scope='session')
def trained_ifnet(label_dir, tmp_path_factory):
    """An IF-Net on 32x32 tiles trained by the real tool (shifts and
    scalings only, ~15 s on one core)."""
    tool = load_tool('tools/train_inverseform.py')
    out = tmp_path_factory.mktemp('ifnet') / 'ifnet.pth'
    with one_thread():
        _train(tool, label_dir, out)
    return str(out)


def _train(tool, label_dir, out) -> None:
    tool.main(
        [
            str(label_dir),
            '--out', str(out),
            '--tile-size', str(TILE),
            '--zoom-range', '1', '1',
            '--iters', '400',
            '--batch-size', '16',
            '--channels', '16',
            '--hidden', '128',
            '--lr', '2e-3',
            '--max-rotation', '0',
            '--max-shear', '0',
            '--max-translation', '0.25',
            '--log-interval', '400',
            '--eval-samples', '64',
        ]
    )  # fmt: skip


@pytest.fixture(scope='session')
def random_ifnet(tmp_path_factory):
    """An untrained IF-Net on 32x32 tiles whose output is not all zero."""
    torch.manual_seed(0)
    net = InverseFormNet(tile_size=TILE, channels=8, hidden=32)
    torch.nn.init.normal_(net.fc[-1].weight, std=0.1)
    out = tmp_path_factory.mktemp('ifnet_random') / 'random.pth'
    net.save(str(out), dict(note='random weights'))
    return str(out)
