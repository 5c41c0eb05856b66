"""Polygons and bitmaps of one instance -> its COCO segmentation.

Shared by the converters of annotation tools (labelme, CVAT): a region is
drawn as polygons (image coordinates) and/or image-sized bitmaps; an
instance made of several regions is their union.
"""

import math
from typing import List, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils

from mmmultilabel.utils import InputError

from .completion import mask_bbox


class RegionError(InputError):
    """A region that cannot be drawn (degenerate, or covering no pixel)."""


def circle_polygon(cx: float, cy: float, radius: float) -> List[float]:
    """Polygon approximating a circle, one vertex every ~3 px.

    Returns:
        list[float]: ``[x1, y1, x2, y2, ...]`` with 12 to 96 vertices.
    """
    n = int(min(96, max(12, math.ceil(2 * math.pi * radius / 3))))
    coords = []
    for k in range(n):
        a = 2 * math.pi * k / n
        coords += [cx + radius * math.cos(a), cy + radius * math.sin(a)]
    return coords


def clip_polygon(
    coords: Sequence[float], width: int, height: int, kind: str
) -> List[float]:
    """A polygon clamped to the image, rounded to 2 decimals.

    Args:
        coords (Sequence[float]): ``[x1, y1, x2, y2, ...]``.
        width (int): Image width.
        height (int): Image height.
        kind (str): What the polygon is, for the message.

    Returns:
        list[float]: ``[x1, y1, ...]`` inside ``[0, width] x [0, height]``.

    Raises:
        RegionError: if the clamped polygon has no area.
    """
    pts = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    pts[:, 0] = pts[:, 0].clip(0, width)
    pts[:, 1] = pts[:, 1].clip(0, height)
    xs, ys = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1)))
    if area <= 1e-6:
        raise RegionError(f'degenerate {kind}: zero area inside the image')
    return [round(float(v), 2) for v in pts.reshape(-1)]


def points_box(points: np.ndarray) -> List[float]:
    """``[x, y, w, h]`` of points of shape (N, 2), rounded to 2 decimals."""
    (x0, y0), (x1, y1) = points.min(0), points.max(0)
    return [round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)]


def paste_bitmap(
    patch: np.ndarray, left: int, top: int, height: int, width: int
) -> np.ndarray:
    """Bool bitmap (height, width) of an image holding the bool ``patch``
    (h, w) with its top-left pixel at column ``left``, row ``top`` (either
    may be negative); what falls outside the image is cut."""
    canvas = np.zeros((height, width), dtype=bool)
    ys, ye = max(top, 0), min(top + patch.shape[0], height)
    xs, xe = max(left, 0), min(left + patch.shape[1], width)
    if ys < ye and xs < xe:
        canvas[ys:ye, xs:xe] = patch[
            ys - top : ye - top, xs - left : xe - left
        ]
    return canvas


def region_segmentation(
    polygons: List[List[float]],
    masks: List[np.ndarray],
    height: int,
    width: int,
) -> Tuple[object, int, List[float]]:
    """COCO ``segmentation``, ``area`` and ``bbox`` of one instance.

    The area is that of the union of the regions, rasterised as
    pycocotools does (``frPyObjects`` for polygons). An instance with a
    bitmap is one RLE (its box from the RLE); one of polygons only keeps
    them (its box from their vertices).

    Args:
        polygons (list[list[float]]): ``[x1, y1, ...]`` each.
        masks (list[np.ndarray]): Bool bitmaps of shape (height, width).
        height (int): Image height.
        width (int): Image width.

    Returns:
        tuple: ``(segmentation, area, [x, y, w, h])``.

    Raises:
        RegionError: if the regions cover no pixel.
    """
    rles = mask_utils.frPyObjects(polygons, height, width) if polygons else []
    rles += [
        mask_utils.encode(np.asfortranarray(m.astype(np.uint8))) for m in masks
    ]
    rle = mask_utils.merge(rles)
    area = int(mask_utils.area(rle))
    if area == 0:
        raise RegionError('covers no pixel')
    if masks:
        # A bitmap: one RLE, its box as pycocotools computes it.
        segmentation = dict(
            size=[height, width], counts=rle['counts'].decode('ascii')
        )
        return segmentation, area, mask_bbox(segmentation, height, width)
    coords = np.concatenate([np.asarray(p).reshape(-1, 2) for p in polygons])
    return polygons, area, points_box(coords)
