"""CVAT's run-length encoding of ``<mask>`` shapes.

A CVAT mask covers the box ``left, top, width, height`` (integer pixels);
its ``rle`` attribute lists run lengths, comma-separated, over the box's
pixels in row-major order (left to right, then top to bottom), starting
with a run of background (0) pixels that may be empty, then alternating
foreground and background. The lengths add up to ``width * height``.

Example: a 3x2 box whose first row is ``0 1 1`` and second ``1 0 0`` is
``rle="1, 3, 2"``.
"""

from typing import List, Tuple

import numpy as np

from ..regions import paste_bitmap


class MaskRleError(ValueError):
    """An RLE that does not describe its box; the message says why."""


def parse_rle(text: str) -> List[int]:
    """Run lengths of an ``rle`` attribute such as ``"1, 3, 2"``.

    Raises:
        MaskRleError: for an item that is not a non-negative integer.
    """
    counts = []
    for item in text.split(','):
        item = item.strip()
        if not item.isdigit():
            raise MaskRleError(
                f'rle item {item!r} is not a non-negative integer (rle is '
                'comma-separated run lengths)'
            )
        counts.append(int(item))
    return counts


def decode_box(counts: List[int], width: int, height: int) -> np.ndarray:
    """Bitmap of a mask's box.

    Args:
        counts (list[int]): Run lengths, background first.
        width (int): Box width.
        height (int): Box height.

    Returns:
        np.ndarray: Bool array of shape (height, width).

    Raises:
        MaskRleError: if the lengths do not add up to ``width * height``.
    """
    total = int(sum(counts))
    if width < 1 or height < 1 or total != width * height:
        raise MaskRleError(
            f'rle run lengths add up to {total}, but the box is {width} x '
            f'{height} = {width * height} pixels; export the mask again '
            'from CVAT, or fix "width"/"height" to the box of the rle'
        )
    values = np.arange(len(counts)) % 2 == 1  # background first
    return np.repeat(values, counts).reshape(height, width)


def decode_mask(
    counts: List[int],
    box: Tuple[int, int, int, int],
    img_height: int,
    img_width: int,
) -> np.ndarray:
    """Image-sized bitmap of a CVAT mask (what falls outside is cut).

    Args:
        counts (list[int]): Run lengths, background first.
        box (tuple[int, int, int, int]): ``left, top, width, height``.
        img_height (int): Image height.
        img_width (int): Image width.

    Returns:
        np.ndarray: Bool array of shape (img_height, img_width).
    """
    left, top, width, height = box
    patch = decode_box(counts, width, height)
    return paste_bitmap(patch, left, top, img_height, img_width)


def encode_mask(mask: np.ndarray) -> Tuple[List[int], Tuple[int, ...]]:
    """CVAT RLE of the tight box of a bitmap.

    Args:
        mask (np.ndarray): Array of shape (H, W), non-zero = foreground,
            with at least one foreground pixel.

    Returns:
        tuple: ``(counts, (left, top, width, height))``.
    """
    ys, xs = np.nonzero(mask)
    top, bottom, left, right = ys.min(), ys.max(), xs.min(), xs.max()
    flat = mask[top : bottom + 1, left : right + 1].reshape(-1) != 0
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts.insert(0, 0)  # the first run is background
    box = (int(left), int(top), int(right - left + 1), int(bottom - top + 1))
    return [int(c) for c in counts], box
