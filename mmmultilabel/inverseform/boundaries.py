"""Soft boundary maps of probabilities and label maps (InverseForm)."""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def sobel_magnitude(maps: Tensor) -> Tensor:
    """Sobel gradient magnitude of every channel, 1 for a unit step.

    The borders are replicated, so the image border is not a boundary.

    Args:
        maps (Tensor): Shape (N, K, H, W).

    Returns:
        Tensor: Shape (N, K, H, W); a straight step from 0 to 1 gives 1 on
        the two pixels beside it.
    """
    num, chans, height, width = maps.shape
    kernel_x = maps.new_tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 4
    # (2, 1, 3, 3): d/dx and d/dy
    kernels = torch.stack([kernel_x, kernel_x.t()]).unsqueeze(1)
    # (N, K, H, W) -> (N * K, 1, H + 2, W + 2)
    padded = F.pad(
        maps.reshape(num * chans, 1, height, width), (1, 1, 1, 1), 'replicate'
    )
    # (N * K, 2, H, W)
    grads = F.conv2d(padded, kernels)
    # eps keeps the gradient of the norm finite on flat regions
    magnitude = (grads.square().sum(dim=1) + 1e-12).sqrt()
    return magnitude.view(num, chans, height, width)


def probability_boundaries(probs: Tensor) -> Tensor:
    """Soft boundary map of class or mask probabilities.

    Args:
        probs (Tensor): Probabilities of shape (N, K, H, W): softmax over K
            classes, or K = 1 sigmoid mask.

    Returns:
        Tensor: Shape (N, 1, H, W), in [0, 1].
    """
    # (N, K, H, W) -> (N, 1, H, W)
    return sobel_magnitude(probs).amax(dim=1, keepdim=True).clamp(max=1.0)


def label_boundaries(
    labels: Tensor,
    num_classes: int,
    ignore_index: Optional[int] = None,
    threshold: float = 0.5,
) -> Tensor:
    """Binary boundary map of a label map (or of 0/1 masks).

    Args:
        labels (Tensor): Class indices of shape (N, H, W), in
            ``[0, num_classes)`` or ``ignore_index``.
        num_classes (int): Number of classes (2 for binary masks).
        ignore_index (int, optional): Label of ignored pixels; they belong to
            no class (their border with valid pixels is a boundary, as it is
            in :func:`probability_boundaries` of masked probabilities).
        threshold (float): Sobel magnitude above which a pixel is boundary;
            a unit step gives 1. Defaults to 0.5.

    Returns:
        Tensor: Float 0/1 map of shape (N, 1, H, W).
    """
    valid = valid_mask(labels, ignore_index)
    # (N, H, W) -> (N, H, W, K) -> (N, K, H, W)
    one_hot = F.one_hot(
        torch.where(valid, labels, torch.zeros_like(labels)), num_classes
    ).permute(0, 3, 1, 2)
    one_hot = one_hot.float() * valid.unsqueeze(1)
    edges = sobel_magnitude(one_hot).amax(dim=1, keepdim=True)
    return (edges > threshold).float()


def valid_mask(labels: Tensor, ignore_index: Optional[int]) -> Tensor:
    """Pixels of ``labels`` (any shape) that are not ``ignore_index``."""
    if ignore_index is None:
        return torch.ones_like(labels, dtype=torch.bool)
    return labels != ignore_index
