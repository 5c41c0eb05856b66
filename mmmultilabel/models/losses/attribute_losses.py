"""Attribute losses with unknown labels ignored.

Targets follow the label encoding of :mod:`mmmultilabel.utils.attributes`:
``-1`` (``UNKNOWN``) marks an unknown label. Ignored targets are
replaced by a valid index before they reach ``F.cross_entropy`` or
``F.binary_cross_entropy_with_logits`` and get weight 0, so an unknown label
can never index out of range (no device-side assert on GPU).

With ``reduction='mean'`` and no ``avg_factor``, each loss is the weighted
mean over the known targets: the sum of ``loss * weight`` divided by the sum
of the weights (per-sample weight times class weight) of known targets. When
every target is unknown or has weight 0 the loss is a zero that stays in the
autograd graph. :meth:`_AttrLoss.weight_sum` gives that sum of weights, so
that a head can average it over the ranks of distributed training and pass it
back as ``avg_factor``, as mmdet's Mask2Former does with its number of masks.

The range checks of the targets read them on the host, a device
synchronisation per call. They run by default; ``check_targets=False`` skips
them where the targets are valid by construction, as in
:class:`~mmmultilabel.models.AttrMask2FormerHead`, which checks its ground
truth once per batch.
"""

from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS
from torch import Tensor

from mmmultilabel.utils import UNKNOWN


def _known_weight(target: Tensor, weight: Optional[Tensor]) -> Tensor:
    """Per-target weight: 0 for unknown targets, else ``weight`` (or 1).

    Args:
        target (Tensor): Targets of shape (N, ) or (N, K).
        weight (Tensor, optional): Sample weights of shape (N, ), or
            element weights of the shape of ``target``.

    Returns:
        Tensor: Float weights of the shape of ``target``.
    """
    known = (target != UNKNOWN).float()
    if weight is None:
        return known
    if weight.dim() < target.dim():
        # (N, ) -> (N, 1): one weight per sample for all its columns
        weight = weight.reshape(
            weight.shape + (1,) * (target.dim() - weight.dim())
        )
    return known * weight.float()


def _class_weighted(
    target: Tensor, weight: Optional[Tensor], class_weight: Optional[Tensor]
) -> Tuple[Tensor, Tensor]:
    """Safe class indices and weights of softmax cross-entropy targets.

    Args:
        target (Tensor): Class indices or -1 (unknown), shape (N, ).
        weight (Tensor, optional): Sample weights of shape (N, ).
        class_weight (Tensor, optional): Weight of each class, shape (C, ).

    Returns:
        tuple[Tensor, Tensor]: The targets with unknown ones replaced by 0,
        and the weight of every target, shape (N, ): 0 if unknown, else its
        sample weight times the weight of its class.
    """
    safe_target = torch.where(target != UNKNOWN, target, 0)
    sample_weight = _known_weight(target, weight)
    if class_weight is not None:
        sample_weight = sample_weight * class_weight[safe_target]
    return safe_target, sample_weight


def _value_weighted(
    target: Tensor, weight: Optional[Tensor], class_weight: Optional[Tensor]
) -> Tensor:
    """Weight of every binary target, shape (N, K).

    0 if unknown, else the sample (or element) weight times the weight of
    the value; arguments as :func:`attr_sigmoid_focal_loss`.
    """
    elem_weight = _known_weight(target, weight)
    if class_weight is not None:
        # (K, ) -> (1, K)
        elem_weight = elem_weight * class_weight[None]
    return elem_weight


def _check_classes(pred: Tensor, target: Tensor) -> None:
    """Refuse class targets outside ``0..C-1`` (host synchronisation)."""
    known = target != UNKNOWN
    bad = known & ((target < 0) | (target >= pred.shape[-1]))
    if bad.any():
        raise ValueError(
            f'attribute cross-entropy got target(s) '
            f'{target[bad].unique().tolist()} outside 0..'
            f'{pred.shape[-1] - 1} for {pred.shape[-1]} logits; unknown '
            f'labels must be {UNKNOWN}'
        )


def attr_cross_entropy(
    pred: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    class_weight: Optional[Tensor] = None,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
    check_targets: bool = True,
) -> Tensor:
    """Softmax cross-entropy with unknown targets ignored.

    Args:
        pred (Tensor): Logits of shape (N, C).
        target (Tensor): Class indices in ``[0, C)`` or -1 (unknown),
            shape (N, ).
        weight (Tensor, optional): Sample weights of shape (N, ).
        class_weight (Tensor, optional): Weight of each class, shape (C, ).
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float, optional): Divisor of the summed loss for
            ``'mean'``. Defaults to the summed weight of known targets.
        check_targets (bool): Raise on targets outside ``[0, C)`` that are
            not -1. Defaults to True.

    Returns:
        Tensor: The loss, of shape (N, ) for ``reduction='none'``.
    """
    if check_targets:
        _check_classes(pred, target)
    safe_target, sample_weight = _class_weighted(target, weight, class_weight)
    loss = F.cross_entropy(pred, safe_target, reduction='none')
    if avg_factor is None and reduction == 'mean':
        avg_factor = sample_weight.sum()
    return weight_reduce_loss(loss, sample_weight, reduction, avg_factor)


def _check_binary_shape(pred: Tensor, target: Tensor) -> None:
    """Refuse binary logits and targets of different shapes."""
    if pred.shape != target.shape:
        raise ValueError(
            f'multi-label attribute logits {tuple(pred.shape)} '
            f'and targets {tuple(target.shape)} differ in shape'
        )


def _check_binary(target: Tensor) -> None:
    """Refuse binary targets other than 0, 1 and -1 (unknown) (host
    synchronisation)."""
    bad = (target != UNKNOWN) & (target != 0) & (target != 1)
    if bad.any():
        raise ValueError(
            f'multi-label attribute targets must be 0, 1 or {UNKNOWN} '
            f'(unknown); got {target[bad].unique().tolist()}'
        )


def attr_sigmoid_focal_loss(
    pred: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    class_weight: Optional[Tensor] = None,
    gamma: float = 2.0,
    alpha: Optional[float] = 0.25,
    reduction: str = 'mean',
    avg_factor: Optional[float] = None,
    check_targets: bool = True,
) -> Tensor:
    """Sigmoid focal loss per value with unknown targets ignored.

    ``gamma=0`` and ``alpha=None`` give the plain binary cross-entropy.

    Args:
        pred (Tensor): Logits of shape (N, K).
        target (Tensor): 0/1 per value or -1 (unknown), shape (N, K).
        weight (Tensor, optional): Sample weights (N, ) or element weights
            (N, K).
        class_weight (Tensor, optional): Weight of each value, shape (K, ).
        gamma (float): Focusing parameter. Defaults to 2.0.
        alpha (float, optional): Weight of positives (``1 - alpha`` for
            negatives); None for no balancing. Defaults to 0.25.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
        avg_factor (float, optional): Divisor of the summed loss for
            ``'mean'``. Defaults to the summed weight of known targets.
        check_targets (bool): Raise on targets other than 0, 1 and -1.
            Defaults to True.

    Returns:
        Tensor: The loss, of shape (N, K) for ``reduction='none'``.
    """
    if check_targets:
        _check_binary(target)
    loss, elem_weight = binary_loss_terms(
        pred, target, weight, class_weight, gamma, alpha
    )
    if avg_factor is None and reduction == 'mean':
        avg_factor = elem_weight.sum()
    return weight_reduce_loss(loss, elem_weight, reduction, avg_factor)


def binary_loss_terms(
    pred: Tensor,
    target: Tensor,
    weight: Optional[Tensor] = None,
    class_weight: Optional[Tensor] = None,
    gamma: float = 0.0,
    alpha: Optional[float] = None,
) -> Tuple[Tensor, Tensor]:
    """The loss of every value and its weight, before any reduction.

    Arguments as :func:`attr_sigmoid_focal_loss`, whose defaults ``gamma=0``
    and ``alpha=None`` give the plain binary cross-entropy.

    Returns:
        tuple[Tensor, Tensor]: Shape (N, K) each: the unweighted loss of
        every value (0/1 target, unknown ones as 0), and its weight: 0 if
        unknown, else the sample weight times the weight of the value.
    """
    _check_binary_shape(pred, target)
    safe_target = torch.where(target != UNKNOWN, target, 0).type_as(pred)
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
    return loss, _value_weighted(target, weight, class_weight)


class _AttrLoss(nn.Module):
    """Shared constructor, ``forward`` and ``weight_sum`` of the attribute
    losses.

    Args:
        class_weight (Sequence[float], optional): Weight of each class (value)
            of the group. Defaults to None.
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``.
            Defaults to ``'mean'``.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        check_targets (bool): Check the range of the targets on every call
            (a host synchronisation each). Defaults to True;
            :class:`~mmmultilabel.models.AttrMask2FormerHead` builds its
            losses with False unless the config sets it.
    """

    def __init__(
        self,
        class_weight: Optional[Sequence[float]] = None,
        reduction: str = 'mean',
        loss_weight: float = 1.0,
        check_targets: bool = True,
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
        self.reduction = reduction
        self.loss_weight = loss_weight
        self.check_targets = check_targets

    def _criterion(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        raise NotImplementedError

    def _target_weight(
        self,
        target: Tensor,
        weight: Optional[Tensor],
        class_weight: Optional[Tensor],
    ) -> Tensor:
        raise NotImplementedError

    def _class_weight(self, pred: Tensor) -> Optional[Tensor]:
        """``class_weight`` as a float tensor on the device of ``pred``."""
        if self.class_weight is None:
            return None
        if len(self.class_weight) != pred.shape[-1]:
            raise ValueError(
                f'{type(self).__name__}: class_weight has '
                f'{len(self.class_weight)} entries for '
                f'{pred.shape[-1]} logits'
            )
        return torch.tensor(self.class_weight, device=pred.device)

    def weight_sum(
        self, pred: Tensor, target: Tensor, weight: Optional[Tensor] = None
    ) -> Tensor:
        """Summed weight of the known targets.

        It is the divisor of ``reduction='mean'`` without ``avg_factor``; a
        head averages it over the ranks and passes it as ``avg_factor``, so
        that every rank divides by the same number.

        Args:
            pred (Tensor): Logits, see the subclass for the shape.
            target (Tensor): Targets, -1 for unknown.
            weight (Tensor, optional): Sample weights of shape (N, ).

        Returns:
            Tensor: A float scalar.
        """
        return self._target_weight(
            target, weight, self._class_weight(pred)
        ).sum()

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
            target (Tensor): Targets, -1 for unknown.
            weight (Tensor, optional): Sample weights of shape (N, ).
            avg_factor (float | Tensor, optional): Divisor of the summed
                loss. Defaults to :meth:`weight_sum`.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: The weighted loss.
        """
        assert reduction_override in (None, 'none', 'mean', 'sum')
        reduction = reduction_override or self.reduction
        return self.loss_weight * self._criterion(
            pred,
            target,
            weight=weight,
            class_weight=self._class_weight(pred),
            reduction=reduction,
            avg_factor=avg_factor,
            check_targets=self.check_targets,
        )


@MODELS.register_module()
class AttrCrossEntropyLoss(_AttrLoss):
    """Softmax cross-entropy for a single-label attribute group.

    ``pred`` has shape (N, num_values + 1) (values and no-object slot),
    ``target`` shape (N, ) with a value index, ``num_values`` for no object,
    or -1 for unknown. ``class_weight`` has ``num_values + 1`` entries.
    """

    def _criterion(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        return attr_cross_entropy(pred, target, **kwargs)

    def _target_weight(
        self,
        target: Tensor,
        weight: Optional[Tensor],
        class_weight: Optional[Tensor],
    ) -> Tensor:
        return _class_weighted(target, weight, class_weight)[1]


@MODELS.register_module()
class AttrBinaryCrossEntropyLoss(_AttrLoss):
    """Sigmoid binary cross-entropy for a multi-label attribute group.

    ``pred`` and ``target`` have shape (N, num_values); targets are 0/1 or
    -1 for unknown. ``class_weight`` has ``num_values``
    entries.
    """

    def _criterion(self, pred: Tensor, target: Tensor, **kwargs) -> Tensor:
        return attr_sigmoid_focal_loss(
            pred, target, gamma=0.0, alpha=None, **kwargs
        )

    def _target_weight(
        self,
        target: Tensor,
        weight: Optional[Tensor],
        class_weight: Optional[Tensor],
    ) -> Tensor:
        return _value_weighted(target, weight, class_weight)


@MODELS.register_module()
class AttrFocalLoss(AttrBinaryCrossEntropyLoss):
    """Sigmoid focal loss for a multi-label attribute group.

    Same inputs as :class:`AttrBinaryCrossEntropyLoss`.

    Args:
        gamma (float): Focusing parameter. Defaults to 2.0.
        alpha (float, optional): Weight of positives (``1 - alpha`` for
            negatives); None for no balancing. Defaults to 0.25.
        **kwargs: ``class_weight``, ``reduction``, ``loss_weight`` and
            ``check_targets`` as in
            :class:`AttrBinaryCrossEntropyLoss`.
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
