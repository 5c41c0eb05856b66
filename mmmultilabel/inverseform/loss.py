"""InverseForm: a boundary-aware loss from a frozen inverse-transform net.

Borse et al., "InverseForm: A Loss Function for Structured Boundary-Aware
Segmentation", CVPR 2021 (arXiv 2104.02745). Boundaries of the prediction
and of the ground truth are compared by a frozen
:class:`~mmmultilabel.inverseform.net.InverseFormNet` (IF-Net),
which regresses the affine transform between them; the loss is the distance
of that transform from the identity, averaged over tiles.

Boundaries are Sobel gradient magnitudes (normalised so that a unit step
gives 1): of the one-hot ground truth, thresholded to a binary map, and of
the predicted probabilities (softmax over classes, or sigmoid of a mask), a
soft map in [0, 1] that gradients flow through. A boundary head's own
output can be used instead (``pred_type='boundary'``).
"""

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS as MMDET_MODELS
from torch import Tensor

from .boundaries import (  # noqa: F401  (re-exported)
    label_boundaries,
    probability_boundaries,
    sobel_magnitude,
    valid_mask,
)
from .net import InverseFormNet

PRED_TYPES = ('mask', 'boundary')


def to_tiles(maps: Tensor, grid: Tuple[int, int]) -> Tensor:
    """Cut maps into a grid of equal tiles, row-major per map.

    Args:
        maps (Tensor): Shape (N, C, gh * S, gw * S).
        grid (tuple[int, int]): ``(gh, gw)``.

    Returns:
        Tensor: Shape (N * gh * gw, C, S, S).
    """
    num, chans, height, width = maps.shape
    rows, cols = grid
    tile_h, tile_w = height // rows, width // cols
    # (N, C, gh, S, gw, S) -> (N, gh, gw, C, S, S) -> (N * gh * gw, C, S, S)
    tiles = maps.view(num, chans, rows, tile_h, cols, tile_w)
    return tiles.permute(0, 2, 4, 1, 3, 5).reshape(-1, chans, tile_h, tile_w)


def inverseform_distance(
    pred_boundary: Tensor,
    gt_boundary: Tensor,
    net: InverseFormNet,
    grid: Tuple[int, int] = (1, 1),
) -> Tensor:
    """Per-sample InverseForm distance of two boundary maps.

    Each map is cut into ``grid`` tiles of the net's tile size; a tile's
    distance is ``||log(A)||_F`` of the transform the IF-Net finds between
    the predicted and ground-truth tile. Tiles without ground-truth boundary
    hold no transform to recover and are left out of the mean; a sample
    with none of them gets 0 (still in the autograd graph).

    Args:
        pred_boundary (Tensor): Soft predicted boundaries in [0, 1], shape
            (N, 1, gh * S, gw * S).
        gt_boundary (Tensor): Ground-truth boundaries, same shape.
        net (InverseFormNet): The frozen IF-Net, tile size ``S``.
        grid (tuple[int, int]): Tiles per map ``(gh, gw)``.

    Returns:
        Tensor: Shape (N, ).
    """
    num = pred_boundary.shape[0]
    # (N, 1, gh * S, gw * S) -> (N * T, 1, S, S)
    pred_tiles = to_tiles(pred_boundary, grid)
    gt_tiles = to_tiles(gt_boundary, grid)
    # (N * T, ) -> (N, T)
    dist = net.distance(pred_tiles, gt_tiles).view(num, -1)
    has_gt = (gt_tiles.flatten(1).amax(dim=1) > 0).view(num, -1).to(dist)
    return (dist * has_gt).sum(dim=1) / has_gt.sum(dim=1).clamp(min=1)


@MMDET_MODELS.register_module()
class InverseFormLoss(nn.Module):
    """InverseForm boundary loss, for mmseg decode heads and mmdet heads.

    ``loss = loss_weight * reduce(d)``, ``d`` the per-sample
    :func:`inverseform_distance` between the boundaries of ``pred`` and of
    ``target`` (see the module docstring for how they are made). The IF-Net
    is loaded from ``checkpoint`` and frozen: it is not a submodule, so it
    gets no gradient, no optimizer state and no place in the model's
    checkpoints, and it follows the input's device on the first call.

    In an mmseg decode head, add it to ``loss_decode`` next to the
    cross-entropy; it then receives the seg logits resized to the label
    size and the label map::

        loss_decode=[
            dict(type='CrossEntropyLoss', loss_weight=1.0),
            dict(type='InverseFormLoss', checkpoint='ifnet.pth',
                 grid=(2, 2), loss_weight=0.5),
        ]

    ``docs/inverseform.md`` explains how to train the IF-Net and what the
    loss did on the shapes data set (it lowered mIoU and boundary F there:
    a segmentation head can lower the distance without moving boundaries).

    Args:
        checkpoint (str): IF-Net checkpoint: a Runner checkpoint of
            ``configs/inverseform/ifnet_*.py`` (trained on the data set's
            own ground-truth boundaries) or one saved by
            :meth:`InverseFormNet.save`.
        pred_type (str): What ``pred`` holds. ``'mask'`` (default):
            segmentation logits, (N, C, H, W) with a softmax over C > 1
            classes, or (N, 1, H, W) / (N, H, W) mask logits with a sigmoid;
            the boundary is derived from the probabilities. ``'boundary'``:
            logits of a boundary head, (N, 1, H, W); their sigmoid is the
            boundary map.
        grid (Sequence[int]): Tiles ``(gh, gw)`` per map: both maps are
            resized to ``(gh * S, gw * S)``, ``S`` the IF-Net's tile size,
            before boundaries are taken. Defaults to (1, 1).
        threshold (float): Sobel magnitude above which a ground-truth pixel
            is boundary. Defaults to 0.5.
        ignore_index (int): Label of ignored pixels, used when ``forward``
            gets none (mmseg's decode heads pass theirs). Defaults to 255.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'`` over samples.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item; only names starting with
            ``loss_`` are back-propagated by mmseg. Defaults to
            ``'loss_inverseform'``.
    """

    def __init__(
        self,
        checkpoint: str,
        pred_type: str = 'mask',
        grid: Sequence[int] = (1, 1),
        threshold: float = 0.5,
        ignore_index: int = 255,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
        loss_name: str = 'loss_inverseform',
    ) -> None:
        super().__init__()
        if pred_type not in PRED_TYPES:
            raise ValueError(
                f'InverseFormLoss pred_type must be one of {PRED_TYPES}, got '
                f'{pred_type!r}'
            )
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(
                "InverseFormLoss reduction must be 'none', 'mean' or 'sum', "
                f'got {reduction!r}'
            )
        grid = tuple(int(g) for g in grid)
        if len(grid) != 2 or min(grid) < 1:
            raise ValueError(
                f'InverseFormLoss grid must be two positive integers (rows, '
                f'cols), got {grid}'
            )
        net, self.checkpoint_meta = InverseFormNet.from_checkpoint(
            checkpoint, map_location='cpu'
        )
        net.requires_grad_(False)
        # A tuple keeps the frozen net out of the module tree (parameters,
        # state_dict, init_weights, train()); see the class docstring.
        self._frozen = (net,)
        self.checkpoint = checkpoint
        self.pred_type = pred_type
        self.grid = grid
        self.threshold = threshold
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def inverse_net(self) -> InverseFormNet:
        """The frozen IF-Net."""
        return self._frozen[0]

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict (mmseg's interface)."""
        return self._loss_name

    def extra_repr(self) -> str:
        return (
            f'checkpoint={self.checkpoint!r}, pred_type={self.pred_type!r}, '
            f'grid={self.grid}, tile_size={self.inverse_net.tile_size}, '
            f'loss_weight={self.loss_weight}'
        )

    def forward(
        self,
        pred: Tensor,
        target: Tensor,
        weight: Optional[Tensor] = None,
        avg_factor: Optional[float] = None,
        reduction_override: Optional[str] = None,
        ignore_index: Optional[int] = None,
    ) -> Tensor:
        """The weighted InverseForm loss.

        Args:
            pred (Tensor): Segmentation logits (N, C, H, W), mask logits
                (N, 1, H, W) or (N, H, W), or boundary logits (N, 1, H, W)
                for ``pred_type='boundary'``.
            target (Tensor): Labels of shape (N, H, W): class indices in
                ``[0, C)`` for C > 1 classes, 0/1 for masks, any class
                indices for boundary logits; ``ignore_index`` for ignored
                pixels.
            weight (Tensor, optional): One weight per sample, shape (N, ).
            avg_factor (float, optional): Divisor of the summed loss for
                ``'mean'``. Defaults to the number of samples.
            reduction_override (str, optional): Overrides ``reduction``.
            ignore_index (int, optional): Overrides ``ignore_index``.

        Returns:
            Tensor: The loss, of shape (N, ) for ``reduction='none'``.
        """
        reduction = reduction_override or self.reduction
        if ignore_index is None:
            ignore_index = self.ignore_index
        if pred.dim() == 3:
            # (N, H, W) mask logits -> (N, 1, H, W)
            pred = pred.unsqueeze(1)
        self._check_inputs(pred, target, weight)
        pred_boundary, gt_boundary = self._boundaries(
            pred, self._as_labels(target), ignore_index
        )
        net = self.inverse_net
        if net.coords.device != pred.device:
            net.to(pred.device)
        dist = inverseform_distance(
            pred_boundary.float(), gt_boundary, net, self.grid
        )
        if weight is not None:
            weight = weight.float()
        loss = weight_reduce_loss(dist, weight, reduction, avg_factor)
        return self.loss_weight * loss

    def _check_inputs(
        self, pred: Tensor, target: Tensor, weight: Optional[Tensor]
    ) -> None:
        if pred.dim() != 4:
            raise ValueError(
                f'InverseFormLoss expects pred of shape (N, C, H, W) or '
                f'(N, H, W), got {tuple(pred.shape)}'
            )
        if target.dim() != 3:
            raise ValueError(
                f'InverseFormLoss expects a target label map of shape '
                f'(N, H, W), got {tuple(target.shape)}; squeeze a channel '
                'dimension of 1'
            )
        if (
            pred.shape[0] != target.shape[0]
            or pred.shape[-2:] != target.shape[-2:]
        ):
            raise ValueError(
                f'InverseFormLoss got pred {tuple(pred.shape)} and target '
                f'{tuple(target.shape)}: the batch size and H, W must '
                'match; resize the logits to the label size first (as '
                "mmseg's loss_by_feat does)"
            )
        if self.pred_type == 'boundary' and pred.shape[1] != 1:
            raise ValueError(
                "InverseFormLoss with pred_type='boundary' expects one "
                f'boundary logit per pixel, (N, 1, H, W), got '
                f"{tuple(pred.shape)}; use pred_type='mask' for "
                'segmentation logits'
            )
        if weight is not None and tuple(weight.shape) != (pred.shape[0],):
            raise ValueError(
                'InverseFormLoss takes one weight per sample, shape '
                f'({pred.shape[0]}, ), got {tuple(weight.shape)}; pixel '
                "weights (e.g. from a decode head's sampler) do not apply "
                'to a boundary transform, remove the sampler'
            )

    @staticmethod
    def _as_labels(target: Tensor) -> Tensor:
        if target.dtype == torch.bool:
            return target.long()
        if target.is_floating_point():
            if not torch.equal(target, target.round()):
                raise ValueError(
                    'InverseFormLoss target must hold class indices or 0/1 '
                    'masks; got fractional values (resize label maps and '
                    "masks with mode='nearest')"
                )
            return target.long()
        return target

    def _boundaries(
        self, pred: Tensor, labels: Tensor, ignore_index: int
    ) -> Tuple[Tensor, Tensor]:
        """Predicted and ground-truth boundary maps at the grid size.

        Args:
            pred (Tensor): Shape (N, C, H, W).
            labels (Tensor): Shape (N, H, W).
            ignore_index (int): Label of ignored pixels.

        Returns:
            tuple[Tensor, Tensor]: Soft predicted and binary ground-truth
            boundaries, each of shape (N, 1, gh * S, gw * S).
        """
        valid = valid_mask(labels, ignore_index)
        num_classes = self._num_classes(pred, labels[valid])
        tile = self.inverse_net.tile_size
        size = (self.grid[0] * tile, self.grid[1] * tile)
        if tuple(labels.shape[-2:]) != size:
            # (N, H, W) -> (N, gh * S, gw * S)
            labels = F.interpolate(
                labels[:, None].float(), size=size, mode='nearest'
            )[:, 0].long()
            valid = valid_mask(labels, ignore_index)
        gt_boundary = label_boundaries(
            labels, num_classes, ignore_index, self.threshold
        )

        if pred.shape[1] > 1:
            probs = pred.softmax(dim=1)
        else:
            probs = pred.sigmoid()
        if tuple(probs.shape[-2:]) != size:
            probs = F.interpolate(
                probs, size=size, mode='bilinear', align_corners=False
            )
        probs = probs * valid.unsqueeze(1)
        if self.pred_type == 'boundary':
            return probs, gt_boundary
        return probability_boundaries(probs), gt_boundary

    def _num_classes(self, pred: Tensor, valid_labels: Tensor) -> int:
        """Classes of the one-hot ground truth; checks the label range."""
        if not valid_labels.numel():
            return max(pred.shape[1], 2)
        top = int(valid_labels.max())
        if int(valid_labels.min()) < 0:
            raise ValueError(
                f'InverseFormLoss target holds negative labels '
                f'{valid_labels[valid_labels < 0].unique().tolist()} that are '
                f'not ignore_index'
            )
        if self.pred_type == 'boundary':
            return max(top + 1, 2)
        num_classes = max(pred.shape[1], 2)
        if top >= num_classes:
            what = (
                f'{pred.shape[1]} classes'
                if pred.shape[1] > 1
                else 'a binary mask (0/1)'
            )
            raise ValueError(
                f'InverseFormLoss target holds label {top} but pred has '
                f'{what}; mark ignored pixels with ignore_index '
                f'({self.ignore_index} by default)'
            )
        return num_classes


def _register_in_mmseg() -> None:
    """Also register the loss in mmseg's registry when mmseg is installed.

    mmsegmentation is an optional dependency (``pip install
    "mmmultilabel[mmseg]"``); the mmdet side of the loss needs none of it.
    """
    try:
        from mmseg.registry import MODELS as MMSEG_MODELS
    except ImportError:
        return
    MMSEG_MODELS.register_module(module=InverseFormLoss)


_register_in_mmseg()
