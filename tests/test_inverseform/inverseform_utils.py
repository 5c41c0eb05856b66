"""Helpers of the InverseForm tests: label maps, tool loading, threads, IF-Net
training configs."""

import copy
import importlib.util
import os
import os.path as osp
import subprocess
import sys
from contextlib import contextmanager

import cv2
import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TILE = 32
IFNET_CONFIG = osp.join(
    REPO, 'configs', 'inverseform', 'ifnet_s64_1xb32-3k_shapes.py'
)


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


def one_cycle(lr: float, iters: int, pct_start: float = 0.05) -> list:
    """``param_scheduler`` of torch's OneCycleLR (with its beta1 cycle) as
    the IF-Net config writes it, for another lr and length; the optimizer
    starts at ``lr / 25``."""
    warmup = int(pct_start * iters) - 1
    phases = [
        dict(T_max=warmup, begin=0, end=warmup + 1, by_epoch=False),
        dict(
            T_max=iters - 1 - warmup, begin=warmup, end=iters, by_epoch=False
        ),
    ]
    return [
        dict(type='CosineAnnealingLR', eta_min=lr, **phases[0]),
        dict(type='CosineAnnealingLR', eta_min=lr / 25e4, **phases[1]),
        dict(type='CosineAnnealingMomentum', eta_min=0.85, **phases[0]),
        dict(type='CosineAnnealingMomentum', eta_min=0.95, **phases[1]),
    ]


def write_ifnet_config(
    path, dataset: dict, iters: int, lr: float, pct_start=0.05, **cfg
):
    """A child of the shipped IF-Net config: ``dataset`` merged into both
    data sets, ``iters`` iterations (one validation, one checkpoint at the
    end), no worker processes, and further top-level settings ``cfg``."""
    loader = dict(num_workers=0, persistent_workers=False)
    child = dict(
        _base_=IFNET_CONFIG,
        train_dataloader=dict(loader, dataset=copy.deepcopy(dataset)),
        val_dataloader=dict(loader, dataset=copy.deepcopy(dataset)),
        optim_wrapper=dict(optimizer=dict(lr=lr / 25)),
        param_scheduler=one_cycle(lr, iters, pct_start),
        train_cfg=dict(max_iters=iters, val_interval=iters),
        default_hooks=dict(
            checkpoint=dict(interval=iters), logger=dict(interval=100)
        ),
    )
    _merge(child, cfg)
    text = '\n'.join(f'{key} = {value!r}' for key, value in child.items())
    with open(path, 'w') as f:
        f.write(text + '\n')
    return str(path)


def _merge(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def train_ifnet(config, work_dir, *args, timeout=300):
    """Run tools/train.py on ``config``; return its log text."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    cmd = [sys.executable, 'tools/train.py', str(config)]
    cmd += ['--work-dir', str(work_dir), *map(str, args)]
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    if proc.returncode != 0:
        raise AssertionError(
            f'{cmd} exited {proc.returncode}\n{proc.stdout[-3000:]}\n'
            f'{proc.stderr[-3000:]}'
        )
    return proc.stdout + proc.stderr


def coco_file() -> dict:
    """One 24x24 image: a square of category 7 (label 2), a square of
    category 3 (label 1) and a crowd region."""

    def square(x, y, s):
        return [[x, y, x + s, y, x + s, y + s, x, y + s]]

    return dict(
        images=[dict(id=1, file_name='a/img.jpg', height=24, width=24)],
        categories=[dict(id=3, name='circle'), dict(id=7, name='square')],
        annotations=[
            dict(id=1, image_id=1, category_id=7, iscrowd=0,
                 segmentation=square(2, 2, 8), area=64, bbox=[2, 2, 8, 8]),
            dict(id=2, image_id=1, category_id=3, iscrowd=0,
                 segmentation=square(12, 12, 8), area=64,
                 bbox=[12, 12, 8, 8]),
            dict(id=3, image_id=1, category_id=3, iscrowd=1,
                 segmentation=square(20, 0, 3), area=9, bbox=[20, 0, 3, 3]),
        ],
    )  # fmt: skip
