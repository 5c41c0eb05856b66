"""Per-query features read under the query's predicted mask."""

import torch
from torch import Tensor

#: Widths of :func:`mask_statistics`.
NUM_MASK_STATISTICS = 4


def mask_pooled_features(mask_pred: Tensor, mask_feature: Tensor) -> Tensor:
    """Average of the mask features weighted by each query's soft mask.

    As open-vocabulary segmenters pool pixel features under a predicted mask:
    ``einsum('qhw,chw->qc', m, f) / (m.sum() + eps)`` with
    ``m = mask_pred.sigmoid()`` (a mask of almost no weight gives almost
    zeros).

    Args:
        mask_pred (Tensor): Mask logits (B, Q, h, w).
        mask_feature (Tensor): Pixel features (B, c, h, w).

    Returns:
        Tensor: Pooled features (B, Q, c).
    """
    weights = mask_pred.sigmoid()
    # (B, Q, h, w), (B, c, h, w) -> (B, Q, c)
    pooled = torch.einsum('bqhw,bchw->bqc', weights, mask_feature)
    # (B, Q, h, w) -> (B, Q, 1)
    area = weights.flatten(2).sum(-1, keepdim=True)
    return pooled / (area + torch.finfo(pooled.dtype).eps)


def mask_statistics(mask_pred: Tensor) -> Tensor:
    """Geometry of each query's predicted mask.

    Four numbers per query, in fractions of the mask grid (the padded batch
    canvas, which is what the rest of Mask2Former sees):

    - the soft area, ``mean(sigmoid(mask_pred))``;
    - the width and the height of the box around ``mask_pred > 0``
      (0 for an empty mask);
    - the box aspect, ``log((width + 1) / (height + 1))`` in grid cells.

    Args:
        mask_pred (Tensor): Mask logits (B, Q, h, w).

    Returns:
        Tensor: Shape (B, Q, 4).
    """
    h, w = mask_pred.shape[-2:]
    area = mask_pred.sigmoid().flatten(2).mean(-1)
    inside = mask_pred > 0
    extents = []
    for dim, size in ((-2, w), (-1, h)):
        # (B, Q, h, w) -> (B, Q, w) columns (then rows) the mask reaches
        reached = inside.any(dim)
        index = torch.arange(size, device=mask_pred.device)
        last = torch.where(reached, index, -1).amax(-1)
        first = torch.where(reached, index, size).amin(-1)
        extents.append((last - first + 1).clamp(min=0).to(mask_pred.dtype))
    width, height = extents
    aspect = torch.log((width + 1) / (height + 1))
    # (B, Q) x 4 -> (B, Q, 4)
    return torch.stack([area, width / w, height / h, aspect], dim=-1)


def mask_input_options(
    width: int, query_channels: int, mask_channels: int
) -> list:
    """The settings of ``attr_mask_features`` and ``attr_mask_stats`` under
    which the attribute classifiers read ``width`` input channels.

    Args:
        width (int): Input width of the first attribute classifier layer.
        query_channels (int): Width of the query features.
        mask_channels (int): Width of the pooled mask features.

    Returns:
        list[dict]: Each setting that gives ``width`` (usually one; none for
        a classifier of another head).
    """
    return [
        dict(attr_mask_features=features, attr_mask_stats=stats)
        for features in (False, True)
        for stats in (False, True)
        if query_channels
        + features * mask_channels
        + stats * NUM_MASK_STATISTICS
        == width
    ]
