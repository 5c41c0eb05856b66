"""Attribute losses with unknown labels ignored.

Targets follow the label encoding of :mod:`mmmultilabel.utils.attributes`:
``-1`` (``ignore_index``) marks an unknown label. Ignored targets are
replaced by a valid index before they reach ``F.cross_entropy`` or
``F.binary_cross_entropy_with_logits`` and get weight 0, so an unknown label
can never index out of range (no device-side assert on GPU).

With ``reduction='mean'`` and no ``avg_factor``, each loss is the weighted
mean over the known targets: the sum of ``loss * weight`` divided by the sum
of the weights (per-sample weight times class weight) of known targets. When
every target is unknown or has weight 0 the loss is a zero that stays in the
autograd graph.
"""

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS
from torch import Tensor

from mmmultilabel.utils import UNKNOWN


def _known_weight(
    target: Tensor, weight: Optional[Tensor], ignore_index: int
) -> Tensor:
    """Per-target weight: 0 for ignored targets, else ``weight`` (or 1).

    Args:
        target (Tensor): Targets of shape (N, ) or (N, K).
        weight (Tensor, optional): Sample weights of shape (N, ), or
            element weights of the shape of ``target``.
        ignore_index (int): Target value to ignore.

    Returns:
        Tensor: Float weights of the shape of ``target``.
    """
    known = (target != ignore_index).float()
    if weight is None:
        return known
    if weight.dim() < target.dim():
        # (N, ) -> (N, 1): one weight per sample for all its columns
        weight = weight.reshape(
            weight.shape + (1,) * (target.dim() - weight.dim())
        )
    return known * weight.float()


def attr_cross_entropy(
    pred: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    class_weight: Optional[Tensor] = None,
    ignore_index: int = UNKNOWN,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
) -> Tensor:
    """Softmax cross-entropy with ignored targets.

    Args:
        pred (Tensor): Logits of shape (N, C).
        target (Tensor): Class indices in ``[0, C)`` or ``ignore_index``,
            shape (N, ).
        weight (Tensor, optional): Sample weights of shape (N, ).
        class_weight (Tensor, optional): Weight of each class, shape (C, ).
        ignore_index (int): Target value to ignore. Defaults to -1.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float, optional): Divisor of the summed loss for
            ``'mean'``. Defaults to the summed weight of known targets.

    Returns:
        Tensor: The loss, of shape (N, ) for ``reduction='none'``.
    """
    known = target != ignore_index
    bad = known & ((target < 0) | (target >= pred.shape[-1]))
    if bad.any():
        raise ValueError(
            f'attribute cross-entropy got target(s) '
            f'{target[bad].unique().tolist()} outside 0..'
            f'{pred.shape[-1] - 1} for {pred.shape[-1]} logits; unknown '
            f'labels must be {ignore_index}'
        )
    safe_target = torch.where(known, target, 0)
    loss = F.cross_entropy(pred, safe_target, reduction='none')
    sample_weight = _known_weight(target, weight, ignore_index)
    if class_weight is not None:
        sample_weight = sample_weight * class_weight[safe_target]
    if avg_factor is None and reduction == 'mean':
        avg_factor = sample_weight.sum()
    return weight_reduce_loss(loss, sample_weight, reduction, avg_factor)


def _check_binary(pred: Tensor, target: Tensor, ignore_index: int) -> None:
    if pred.shape != target.shape:
        raise ValueError(
            f'multi-label attribute logits {tuple(pred.shape)} '
            f'and targets {tuple(target.shape)} differ in shape'
        )
    bad = (target != ignore_index) & (target != 0) & (target != 1)
    if bad.any():
        raise ValueError(
            f'multi-label attribute targets must be 0, 1 or {ignore_index} '
            f'(unknown); got {target[bad].unique().tolist()}'
        )


def attr_binary_cross_entropy(
    pred: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    class_weight: Optional[Tensor] = None,
    ignore_index: int = UNKNOWN,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
) -> Tensor:
    """Sigmoid binary cross-entropy per value with ignored targets.

    Args:
        pred (Tensor): Logits of shape (N, K).
        target (Tensor): 0/1 per value or ``ignore_index``, shape (N, K).
        weight (Tensor, optional): Sample weights (N, ) or element weights
            (N, K).
        class_weight (Tensor, optional): Weight of each value, shape (K, ).
        ignore_index (int): Target value to ignore. Defaults to -1.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float, optional): Divisor of the summed loss for
            ``'mean'``. Defaults to the summed weight of known targets.

    Returns:
        Tensor: The loss, of shape (N, K) for ``reduction='none'``.
    """
    return attr_sigmoid_focal_loss(
        pred,
        target,
        weight,
        class_weight,
        gamma=0.0,
        alpha=None,
        ignore_index=ignore_index,
        reduction=reduction,
        avg_factor=avg_factor,
    )


def attr_sigmoid_focal_loss(
    pred: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    class_weight: Optional[Tensor] = None,
    gamma: float = 2.0,
    alpha: Optional[float] = 0.25,
    ignore_index: int = UNKNOWN,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
) -> Tensor:
    """Sigmoid focal loss per value with ignored targets.

    ``gamma=0`` and ``alpha=None`` give the plain binary cross-entropy.

    Args:
        pred (Tensor): Logits of shape (N, K).
        target (Tensor): 0/1 per value or ``ignore_index``, shape (N, K).
        weight (Tensor, optional): Sample weights (N, ) or element weights
            (N, K).
        class_weight (Tensor, optional): Weight of each value, shape (K, ).
        gamma (float): Focusing parameter. Defaults to 2.0.
        alpha (float, optional): Weight of positives (``1 - alpha`` for
            negatives); None for no balancing. Defaults to 0.25.
        ignore_index (int): Target value to ignore. Defaults to -1.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float, optional): Divisor of the summed loss for
            ``'mean'``. Defaults to the summed weight of known targets.

    Returns:
        Tensor: The loss, of shape (N, K) for ``reduction='none'``.
    """
    _check_binary(pred, target, ignore_index)
    known = target != ignore_index
    safe_target = torch.where(known, target, 0).type_as(pred)
    loss = F.binary_cross_entropy_with_logits(
        pred, safe_target, reduction='none'
    )
    if gamma:
        prob = pred.sigmoid()
        # 1 - p_t of the focal loss paper
        one_minus_pt = prob + safe_target * (1 - 2 * prob)
        loss = loss * one_minus_pt.pow(gamma)
    if alpha is not None:
        loss = loss * (alpha * safe_target + (1 - alpha) * (1 - safe_target))
    elem_weight = _known_weight(target, weight, ignore_index)
    if class_weight is not None:
        # (K, ) -> (1, K)
        elem_weight = elem_weight * class_weight[None]
    if avg_factor is None and reduction == 'mean':
        avg_factor = elem_weight.sum()
    return weight_reduce_loss(loss, elem_weight, reduction, avg_factor)


class _AttrLoss(nn.Module):
    """Shared constructor and ``forward`` of the attribute losses.

    Args:
        class_weight (Sequence[float], optional): Weight of each class (value)
            of the group. Defaults to None.
        ignore_index (int): Target value of unknown labels. Defaults to -1.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(
        self,
        class_weight: Optional[Sequence[float]] = None,
        ignore_index: int = UNKNOWN,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
    ) -> None:
        super().__init__()
        if reduction not in ('none', 'mean', 'sum'):
            raise ValueError(
                f'reduction must be "none", "mean" or "sum", '
                f'got {reduction!r}'
            )
        self.class_weight = (
            None if class_weight is None else [float(w) for w in class_weight]
        )
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.loss_weight = loss_weight

    def _criterion(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        raise NotImplementedError

    def forward(
        self,
        pred: Tensor,
        target: Tensor,
        weight: Optional[Tensor] = None,
        avg_factor: Optional[float] = None,
        reduction_override: Optional[str] = None,
    ) -> Tensor:
        """Compute the loss.

        Args:
            pred (Tensor): Logits, see the subclass for the shape.
            target (Tensor): Targets, with ``ignore_index`` for unknown.
            weight (Tensor, optional): Sample weights of shape (N, ).
            avg_factor (float, optional): Divisor of the summed loss.
                Defaults to the summed weight of known targets.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: The weighted loss.
        """
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        class_weight = None
        if self.class_weight is not None:
            if len(self.class_weight) != pred.shape[-1]:
                raise ValueError(
                    f'{type(self).__name__}: class_weight has '
                    f'{len(self.class_weight)} entries for '
                    f'{pred.shape[-1]} logits'
                )
            class_weight = pred.new_tensor(self.class_weight)
        return self.loss_weight * self._criterion(
            pred,
            target,
            weight=weight,
            class_weight=class_weight,
            ignore_index=self.ignore_index,
            reduction=reduction,
            avg_factor=avg_factor,
        )


@MODELS.register_module()
class AttrCrossEntropyLoss(_AttrLoss):
    """Softmax cross-entropy for a single-label attribute group.

    ``pred`` has shape (N, num_values + 1) (values and no-object slot),
    ``target`` shape (N, ) with a value index, ``num_values`` for no object,
    or ``ignore_index`` (-1) for unknown. ``class_weight`` has
    ``num_values + 1`` entries.
    """

    def _criterion(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        return attr_cross_entropy(pred, target, **kwargs)


@MODELS.register_module()
class AttrBinaryCrossEntropyLoss(_AttrLoss):
    """Sigmoid binary cross-entropy for a multi-label attribute group.

    ``pred`` and ``target`` have shape (N, num_values); targets are 0/1 or
    ``ignore_index`` (-1) for unknown. ``class_weight`` has ``num_values``
    entries.
    """

    def _criterion(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        return attr_binary_cross_entropy(pred, target, **kwargs)


@MODELS.register_module()
class AttrFocalLoss(_AttrLoss):
    """Sigmoid focal loss for a multi-label attribute group.

    Same inputs as :class:`AttrBinaryCrossEntropyLoss`.

    Args:
        gamma (float): Focusing parameter. Defaults to 2.0.
        alpha (float, optional): Weight of positives (``1 - alpha`` for
            negatives); None for no balancing. Defaults to 0.25.
        **kwargs: ``class_weight``, ``ignore_index``, ``reduction`` and
            ``loss_weight`` as in :class:`AttrBinaryCrossEntropyLoss`.
    """

    def __init__(
        self, gamma: float = 2.0, alpha: Optional[float] = 0.25, **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.gamma = gamma
        self.alpha = alpha

    def _criterion(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        return attr_sigmoid_focal_loss(
            pred, target, gamma=self.gamma, alpha=self.alpha, **kwargs
        )
