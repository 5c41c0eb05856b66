"""Fixtures of the InverseForm tests: label maps and IF-Net checkpoints."""

import importlib.util
import os.path as osp
from contextlib import contextmanager

import cv2
import numpy as np
import pytest
import torch

from mmmultilabel.models.losses.inverseform_net import InverseFormNet

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TILE = 32


def load_tool(rel_path: str):
    """Import a script under ``tools/`` as a module."""
    path = osp.join(REPO, rel_path)
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def draw_label_map(
    size: int = 64, shapes=((1, 20, 22, 9), (2, 42, 40, 10))
) -> np.ndarray:
    """A label map with discs (class 1) and squares (class 2).

    Args:
        size (int): Side of the map.
        shapes: ``(class, x, y, radius)`` per shape.

    Returns:
        np.ndarray: uint8 labels of shape (size, size).
    """
    label = np.zeros((size, size), np.uint8)
    for cls, x, y, r in shapes:
        if cls == 1:
            cv2.circle(label, (x, y), r, 1, -1)
        else:
            cv2.rectangle(label, (x - r, y - r), (x + r, y + r), cls, -1)
    return label


@contextmanager
def one_thread():
    """Small convolutions: one thread is many times faster than several on
    a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


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
