"""Affine warps through their generators ``L = log(A)`` (InverseForm)."""

from typing import Optional

import torch
from torch import Tensor


def affine_from_generator(generators: Tensor) -> Tensor:
    """``A = exp(L)`` for 2x3 generators, via the 3x3 matrix exponential.

    Args:
        generators (Tensor): Generators ``L`` of shape (N, 2, 3).

    Returns:
        Tensor: Affine matrices of shape (N, 2, 3), as
        :func:`torch.nn.functional.affine_grid` takes them.
    """
    num = generators.shape[0]
    # (N, 2, 3) -> (N, 3, 3) with a zero last row
    full = torch.cat([generators, generators.new_zeros(num, 1, 3)], dim=1)
    return torch.linalg.matrix_exp(full)[:, :2]


def random_generators(
    num: int,
    max_translation: float = 0.3,
    max_rotation: float = 0.3,
    max_log_scale: float = 0.25,
    max_shear: float = 0.1,
    generator: Optional[torch.Generator] = None,
) -> Tensor:
    """Random generators ``L = log(A)`` of affine warps, small ones included.

    Each component is uniform in its range; half of the samples are then
    scaled down by a uniform factor so that near-identity warps, which
    matter most once a segmentation is nearly right, are common.

    Args:
        num (int): Number of generators.
        max_translation (float): Largest shift, in tile-normalised units
            (1.0 is half a tile). Defaults to 0.3.
        max_rotation (float): Largest rotation in radians. Defaults to 0.3.
        max_log_scale (float): Largest ``|log(scale)|``, isotropic plus a
            third of it anisotropic. Defaults to 0.25.
        max_shear (float): Largest shear. Defaults to 0.1.
        generator (torch.Generator, optional): Random number generator.

    Returns:
        Tensor: Shape (num, 2, 3).
    """

    def uniform(*shape: int) -> Tensor:
        return torch.rand(*shape, generator=generator) * 2 - 1

    rotation = uniform(num) * max_rotation
    scale = uniform(num) * max_log_scale
    aniso = uniform(num) * max_log_scale / 3
    shear = uniform(num) * max_shear
    gens = torch.zeros(num, 2, 3)
    gens[:, 0, 0] = scale + aniso
    gens[:, 1, 1] = scale - aniso
    gens[:, 0, 1] = -rotation + shear
    gens[:, 1, 0] = rotation + shear
    gens[:, :, 2] = uniform(num, 2) * max_translation
    shrink = torch.where(
        torch.rand(num, generator=generator) < 0.5,
        torch.rand(num, generator=generator),
        torch.ones(num),
    )
    return gens * shrink.view(num, 1, 1)
