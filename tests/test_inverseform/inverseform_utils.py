"""Helpers of the InverseForm tests: label maps, tool loading, threads."""

import importlib.util
import os.path as osp
from contextlib import contextmanager

import cv2
import numpy as np
import torch

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
