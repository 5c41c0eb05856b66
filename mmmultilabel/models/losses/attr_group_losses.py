"""The attribute losses of all groups of one decoder layer."""

from itertools import accumulate
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.utils import reduce_mean
from torch import Tensor

from mmmultilabel.utils import AttributeSpec

from ..utils import attr_logit_channels
from .attribute_losses import AttrBinaryCrossEntropyLoss, binary_loss_terms

#: mmdet's ``weight_reduce_loss`` divides by ``avg_factor + eps``.
_EPS = torch.finfo(torch.float32).eps
#: The methods with which :class:`AttrBinaryCrossEntropyLoss` computes a
#: group's loss and divisor.
_BCE_METHODS = (
    'forward',
    'weight_sum',
    '_criterion',
    '_target_weight',
    '_class_weight',
)


def computes_as_bce(loss: nn.Module) -> bool:
    """Whether ``loss`` is the plain binary cross-entropy that
    :class:`AttrGroupLosses` computes together with other groups.

    It is an :class:`AttrBinaryCrossEntropyLoss` that computes with that
    class's own methods, reduces by ``'mean'`` or ``'sum'`` and does not
    check its targets per call. A subclass that only configures or renames
    the loss gives the same numbers either way; one that overrides how the
    loss is computed (as :class:`AttrFocalLoss` does) keeps its own call.
    """
    return (
        isinstance(loss, AttrBinaryCrossEntropyLoss)
        and all(
            getattr(type(loss), name)
            is getattr(AttrBinaryCrossEntropyLoss, name)
            for name in _BCE_METHODS
        )
        and loss.reduction in ('mean', 'sum')
        and not loss.check_targets
    )


class AttrGroupLosses(nn.Module):
    """One loss per attribute group, each divided by its summed weight of
    known targets averaged over the ranks.

    Built once by :class:`~mmmultilabel.models.AttrMask2FormerHead` from
    its groups and their loss modules (which stay the head's, in its
    ``loss_attrs``). The divisors of all groups go through one
    ``reduce_mean``, run on every rank whatever its data, as mmdet's
    Mask2Former divides its mask losses by ``reduce_mean(num_total_masks)``;
    a group whose loss does not reduce by ``'mean'`` gets none.

    The groups whose loss :func:`computes_as_bce` are computed together: one
    binary cross-entropy over all their columns, then per group the weighted
    sum and the summed weight of its known targets; their loss modules are
    not called. Only the order of the floating-point sums differs from the
    groups' own calls. Every other group (single-label, focal, targets
    checked per call, a loss computing otherwise) is computed by its own
    loss module. Why batched: per group and decoder layer, a loss and its
    ``weight_sum`` are each a handful of small operations, forward and
    backward. At the Fashionpedia layout of ``tools/analysis_tools/
    bench_train_step.py --layout fashionpedia`` (15 multi-label groups, 4
    decoder outputs) the groups' own calls took 14 ms or more of a training
    step of about 240 ms on 2 CPU threads, the batched losses about 1 ms;
    the step's target is within 5 % of mmdet's stock Mask2Former.

    The layout (columns, class and loss weights, reductions) is read from
    the loss modules once, here.

    Args:
        spec (AttributeSpec): The attribute groups.
        losses (Sequence[nn.Module]): The loss of every group, each with
            ``weight_sum(pred, target, weight)``.
    """

    def __init__(
        self, spec: AttributeSpec, losses: Sequence[nn.Module]
    ) -> None:
        super().__init__()
        # a plain list: the modules are registered by the head
        self.losses = list(losses)
        self.batched = [
            g
            for g, (group, loss) in enumerate(zip(spec, losses))
            if group.multi_label and computes_as_bce(loss)
        ]
        logit_starts = list(accumulate(attr_logit_channels(spec), initial=0))
        label_slices = list(spec.label_slices.values())
        logit_cols, label_cols, segment, class_weight = [], [], [], []
        for i, g in enumerate(self.batched):
            cols, loss = label_slices[g], self.losses[g]
            k = cols.stop - cols.start
            logit_cols += range(logit_starts[g], logit_starts[g] + k)
            label_cols += range(cols.start, cols.stop)
            segment += [i] * k
            class_weight += loss.class_weight or [1.0] * k
        batched = [self.losses[g] for g in self.batched]
        # the other groups: their logit and label columns ((N, ) targets
        # for a single-label group)
        self.own = [
            (
                g,
                slice(logit_starts[g], logit_starts[g + 1]),
                cols if group.multi_label else cols.start,
            )
            for g, (group, cols) in enumerate(zip(spec, label_slices))
            if g not in self.batched
        ]

        def buffer(name, values, **kwargs):
            tensor = None if values is None else torch.tensor(values, **kwargs)
            self.register_buffer(name, tensor, persistent=False)

        # the columns of the batched groups; None when they are all columns
        for name, cols, width in (
            ('logit_cols', logit_cols, logit_starts[-1]),
            ('label_cols', label_cols, spec.num_label_columns),
        ):
            same = cols == list(range(width))
            buffer(name, None if same else cols, dtype=torch.long)
        buffer('segment', segment, dtype=torch.long)
        has_class_weight = any(
            loss.class_weight is not None for loss in batched
        )
        buffer('class_weight', class_weight if has_class_weight else None)
        buffer('loss_weight', [float(loss.loss_weight) for loss in batched])
        buffer('mean', [loss.reduction == 'mean' for loss in batched])

    def forward(
        self, attr_preds: Tensor, attr_targets: Tensor, attr_weights: Tensor
    ) -> Tuple[Tensor, ...]:
        """The loss of every group.

        Args:
            attr_preds (Tensor): All logits, shape (N, A).
            attr_targets (Tensor): Label rows, shape (N, D).
            attr_weights (Tensor): Sample weights, shape (N, ).

        Returns:
            tuple[Tensor]: One scalar loss per group, in group order.
        """
        if not self.losses:
            return ()
        own = {
            g: (attr_preds[:, logits], attr_targets[:, labels], attr_weights)
            for g, logits, labels in self.own
        }
        # (G, ): the summed weight of every group's known targets, the
        # batched groups first
        weight_sums = []
        if self.batched:
            loss_sums, batched_weight_sums = self._batched_sums(
                attr_preds, attr_targets, attr_weights
            )
            weight_sums.append(batched_weight_sums)
        if own:
            weight_sums.append(
                torch.stack(
                    [
                        self.losses[g].weight_sum(*args).float()
                        for g, args in own.items()
                    ]
                )
            )
        avg_factors = reduce_mean(
            weight_sums[0] if len(weight_sums) == 1 else torch.cat(weight_sums)
        )
        out = {}
        if self.batched:
            # as the group's own loss: loss_weight * (sum / (avg_factor +
            # eps)), or loss_weight * sum without 'mean' reduction
            divisor = avg_factors[: len(self.batched)]
            divisor = torch.where(self.mean, divisor + _EPS, 1.0)
            losses = self.loss_weight * (loss_sums / divisor)
            out.update(zip(self.batched, losses.unbind()))
        for avg_factor, (g, args) in zip(
            avg_factors[len(self.batched) :].unbind(), own.items()
        ):
            loss = self.losses[g]
            out[g] = loss(
                *args,
                avg_factor=avg_factor if loss.reduction == 'mean' else None,
            )
        return tuple(out[g] for g in range(len(self.losses)))

    def _batched_sums(
        self, attr_preds: Tensor, attr_targets: Tensor, attr_weights: Tensor
    ) -> Tuple[Tensor, Tensor]:
        """Per batched group, shape (G, ): the sum of ``loss * weight`` over
        its known targets, and the sum of their weights."""
        # (N, A) -> (N, M), (N, D) -> (N, M): the batched groups' columns
        if self.logit_cols is not None:
            attr_preds = attr_preds.index_select(1, self.logit_cols)
        if self.label_cols is not None:
            attr_targets = attr_targets.index_select(1, self.label_cols)
        loss, weight = binary_loss_terms(
            attr_preds, attr_targets, attr_weights, self.class_weight
        )
        # (N, M) -> (M, ) -> (G, ): sums per column, then per group
        num_groups = len(self.batched)
        loss_sums = loss.new_zeros(num_groups).index_add(
            0, self.segment, (loss * weight).sum(0)
        )
        weight_sums = weight.new_zeros(num_groups).index_add(
            0, self.segment, weight.sum(0)
        )
        return loss_sums, weight_sums
