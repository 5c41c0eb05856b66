"""Boundary tile pairs with a known affine warp, to train the IF-Net.

A random square window of a label map gives the target boundary tile; the
same window seen through an affine warp ``A`` (sampled from the whole map
as a spatial transformer samples it) and softened like a prediction gives
the "predicted" tile: ``pred(p) = target(A p)`` in tile-normalised
coordinates (see :mod:`mmmultilabel.inverseform.net`).
:class:`~mmmultilabel.inverseform.InverseFormPairDataset` draws the windows
and warps.
"""

import math
import random
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .affine import affine_from_generator
from .boundaries import label_boundaries, probability_boundaries


def pick_mask(
    label: Tensor,
    num_classes: int,
    instances: Optional[Tensor],
    instance_prob: float,
    rng: random.Random,
) -> Tuple[Tensor, int]:
    """The whole label map, or one instance (or class) of it as a 0/1 mask.

    Args:
        label (Tensor): Class indices, shape (H, W).
        num_classes (int): Classes of ``label``, background included.
        instances (Tensor, optional): Instance ids (0 = none), shape (H, W);
            without them one class is picked.
        instance_prob (float): Chance of a 0/1 mask.
        rng (random.Random): Random number generator.

    Returns:
        tuple[Tensor, int]: The map (H, W) and its number of classes.
    """
    if rng.random() >= instance_prob:
        return label, num_classes
    ids = instances if instances is not None else label
    present = [int(i) for i in ids.unique() if i > 0]
    if not present:
        return label, num_classes
    return (ids == rng.choice(present)).long(), 2


def window_grid(
    height: int,
    width: int,
    center: Sequence[float],
    side: float,
    affine: Tensor,
    tile_size: int,
) -> Tensor:
    """``grid_sample`` grids of a square window, seen through affines.

    Args:
        height (int): Image height in pixels.
        width (int): Image width in pixels.
        center (Sequence[float]): Window centre (x, y) in pixels.
        side (float): Window side in image pixels.
        affine (Tensor): Shape (K, 2, 3), on tile-normalised coordinates.
        tile_size (int): Output side S.

    Returns:
        Tensor: Shape (K, S, S, 2) in image-normalised coordinates.
    """
    # (K, S, S, 2) tile-normalised coordinates, transformed by ``affine``
    tile = F.affine_grid(
        affine,
        (affine.shape[0], 1, tile_size, tile_size),
        align_corners=False,
    )
    pixels_x = center[0] + tile[..., 0] * side / 2
    pixels_y = center[1] + tile[..., 1] * side / 2
    return torch.stack(
        [2 * pixels_x / width - 1, 2 * pixels_y / height - 1], dim=-1
    )


def soften(probs: Tensor, rng: random.Random) -> Tensor:
    """Make warped one-hot maps look like predicted probabilities: a box
    blur half of the time, then mixing with the uniform distribution.

    Args:
        probs (Tensor): Shape (K, C, S, S); all K maps get the same change.
        rng (random.Random): Random number generator.

    Returns:
        Tensor: Shape (K, C, S, S).
    """
    if rng.random() < 0.5:
        size = rng.choice([3, 5])
        probs = F.avg_pool2d(
            F.pad(probs, [size // 2] * 4, mode='replicate'), size, stride=1
        )
    mix = rng.uniform(0.0, 0.3)
    return probs * (1 - mix) + mix / probs.shape[1]


def make_pairs(
    mask: Tensor,
    num_classes: int,
    generators: Tensor,
    tile_size: int,
    zoom: float,
    rng: random.Random,
) -> Tuple[Tensor, Tensor]:
    """(predicted, target) boundary tiles of one window, ``pred = target o A``
    for each of K warps.

    The window and the softening are drawn once and shared by the K warps.

    Args:
        mask (Tensor): Label map or 0/1 mask, shape (H, W).
        num_classes (int): Classes of ``mask``.
        generators (Tensor): ``log(A)`` of each warp, shape (K, 2, 3).
        tile_size (int): Tile side S.
        zoom (float): Image pixels per tile pixel.
        rng (random.Random): Picks the window and the softening.

    Returns:
        tuple[Tensor, Tensor]: Soft predicted and binary target boundary
        tiles, each of shape (K, 1, S, S) (the K targets are equal).
    """
    height, width = mask.shape
    num = generators.shape[0]
    side = tile_size * zoom
    centre = []
    for extent in (width, height):
        low, high = side / 2, extent - side / 2
        centre.append(rng.uniform(low, high) if high > low else extent / 2)
    identity = torch.eye(2, 3)[None]
    # (H, W) -> (1, 1, S, S) class indices, unwarped
    label_tile = F.grid_sample(
        mask[None, None].float(),
        window_grid(height, width, centre, side, identity, tile_size),
        mode='nearest',
        padding_mode='border',
        align_corners=False,
    )
    target = label_boundaries(label_tile[:, 0].long(), num_classes)
    # (H, W) -> (1, C, H, W) -> (K, C, S, S) probabilities, warped
    one_hot = F.one_hot(mask, num_classes).permute(2, 0, 1)[None].float()
    probs = F.grid_sample(
        one_hot.expand(num, -1, -1, -1),
        window_grid(
            height,
            width,
            centre,
            side,
            affine_from_generator(generators),
            tile_size,
        ),
        mode='bilinear',
        padding_mode='border',
        align_corners=False,
    )
    probs = soften(probs, rng)
    if num_classes == 2:
        # a sigmoid mask, as the instance heads predict
        probs = probs[:, 1:]
    return probability_boundaries(probs), target.expand(num, -1, -1, -1)


def probe_generators(
    shifts_px: Sequence[float],
    scales: Sequence[float],
    tile_size: int,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Generators of known shifts (random direction) and uniform scalings.

    Args:
        shifts_px (Sequence[float]): Shift lengths in tile pixels.
        scales (Sequence[float]): Scale factors.
        tile_size (int): Tile side S (a shift of t pixels is ``2 t / S`` in
            tile-normalised units).
        generator (torch.Generator, optional): Draws the shift directions.

    Returns:
        Tensor: Shape (len(shifts_px) + len(scales), 2, 3); shifts first.
    """
    gens = torch.zeros(len(shifts_px) + len(scales), 2, 3)
    for i, shift in enumerate(shifts_px):
        angle = float(torch.rand((), generator=generator)) * 2 * math.pi
        gens[i, 0, 2] = 2 * shift / tile_size * math.cos(angle)
        gens[i, 1, 2] = 2 * shift / tile_size * math.sin(angle)
    for i, scale in enumerate(scales, start=len(shifts_px)):
        gens[i, 0, 0] = gens[i, 1, 1] = math.log(scale)
    return gens
