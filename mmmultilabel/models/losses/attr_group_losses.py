"""The attribute losses of all groups of one decoder layer.

A head has one loss per attribute group. Run one by one, a layout such as
Fashionpedia's (15 multi-label groups, 320 values) costs 15 loss calls and
15 ``weight_sum`` calls per decoder layer, each a handful of small
operations, forward and backward. :func:`attr_group_losses` gives the
same losses with the plain multi-label groups (:class:`.
AttrBinaryCrossEntropyLoss`, targets not checked per call) computed
together: one binary cross-entropy over all their columns and per-group
sums (:func:`.attr_binary_cross_entropy_segments`); the other groups
(single-label, focal, custom losses, checked targets) keep their own call.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmdet.utils import reduce_mean
from torch import Tensor

from mmmultilabel.utils import AttributeSpec

from .attribute_losses import (
    AttrBinaryCrossEntropyLoss,
    attr_binary_cross_entropy_segments,
)

#: mmdet's ``weight_reduce_loss`` divides by ``avg_factor + eps``.
_EPS = torch.finfo(torch.float32).eps


def _batchable(loss: nn.Module, multi_label: bool) -> bool:
    """Whether a group's loss is the plain binary cross-entropy."""
    return (
        multi_label
        and type(loss) is AttrBinaryCrossEntropyLoss
        and loss.reduction in ('mean', 'sum')
        and not loss.check_targets
    )


class _Layout:
    """Columns of the batched groups, built once per losses and device."""

    def __init__(
        self,
        spec: AttributeSpec,
        losses: Sequence[nn.Module],
        logit_widths: Sequence[int],
        device: torch.device,
    ) -> None:
        label_slices = list(spec.label_slices.values())
        logit_starts = [0]
        for width in logit_widths:
            logit_starts.append(logit_starts[-1] + width)
        self.groups: List[int] = []
        logit_cols: List[int] = []
        label_cols: List[int] = []
        segment: List[int] = []
        class_weight: List[float] = []
        for g, (group, loss) in enumerate(zip(spec, losses)):
            if not _batchable(loss, group.multi_label):
                continue
            k = group.num_values
            segment += [len(self.groups)] * k
            self.groups.append(g)
            logit_cols += range(logit_starts[g], logit_starts[g] + k)
            label_cols += range(label_slices[g].start, label_slices[g].stop)
            class_weight += loss.class_weight or [1.0] * k
        batched = [losses[g] for g in self.groups]
        self.has_class_weight = any(
            loss.class_weight is not None for loss in batched
        )
        self.all_logits = logit_cols == list(range(logit_starts[-1]))
        self.all_labels = label_cols == list(range(spec.num_label_columns))
        as_long = dict(dtype=torch.long, device=device)
        self.logit_cols = torch.tensor(logit_cols, **as_long)
        self.label_cols = torch.tensor(label_cols, **as_long)
        self.segment = torch.tensor(segment, **as_long)
        self.class_weight = torch.tensor(class_weight, device=device)
        self.loss_weight = torch.tensor(
            [float(loss.loss_weight) for loss in batched], device=device
        )
        self.mean = torch.tensor(
            [loss.reduction == 'mean' for loss in batched], device=device
        )
        self.all_groups = len(self.groups) == len(spec)


_layouts: Dict[tuple, _Layout] = {}


def _layout(
    spec: AttributeSpec,
    losses: Sequence[nn.Module],
    logit_widths: Sequence[int],
    device: torch.device,
) -> _Layout:
    key = (
        spec.groups,
        tuple(logit_widths),
        tuple(
            (
                id(loss),
                type(loss),
                getattr(loss, 'reduction', None),
                getattr(loss, 'check_targets', None),
                float(getattr(loss, 'loss_weight', 0.0)),
                tuple(getattr(loss, 'class_weight', None) or ()),
            )
            for loss in losses
        ),
        str(device),
    )
    layout = _layouts.get(key)
    if layout is None:
        if len(_layouts) >= 64:  # heads built and dropped, as in tests
            _layouts.clear()
        layout = _layouts[key] = _Layout(spec, losses, logit_widths, device)
    return layout


def attr_group_losses(
    spec: AttributeSpec,
    losses: Sequence[nn.Module],
    group_logits: Sequence[Tensor],
    attr_preds: Tensor,
    attr_targets: Tensor,
    attr_weights: Tensor,
) -> Tuple[Tensor, ...]:
    """One loss per attribute group, each divided by its weight of known
    targets averaged over the ranks.

    The divisors of all groups go through one ``reduce_mean``, run on every
    rank whatever its data, as mmdet's Mask2Former divides its mask losses
    by ``reduce_mean(num_total_masks)``; a group whose loss does not reduce
    by ``'mean'`` gets none.

    Args:
        spec (AttributeSpec): The attribute groups.
        losses (Sequence[nn.Module]): The loss of every group, each with
            ``weight_sum(pred, target, weight)``.
        group_logits (Sequence[Tensor]): Every group's logits, views of
            ``attr_preds``: (N, K + 1) single-label, (N, K) multi-label.
        attr_preds (Tensor): All logits, shape (N, A).
        attr_targets (Tensor): Label rows, shape (N, D).
        attr_weights (Tensor): Sample weights, shape (N, ).

    Returns:
        tuple[Tensor]: One scalar loss per group, in group order.
    """
    if len(spec) == 0:
        return ()
    layout = _layout(
        spec,
        losses,
        [logits.shape[-1] for logits in group_logits],
        attr_preds.device,
    )
    batched = set(layout.groups)
    inputs: List[Optional[tuple]] = []
    for g, (group, logits, cols) in enumerate(
        zip(spec, group_logits, spec.label_slices.values())
    ):
        if g in batched:
            inputs.append(None)
            continue
        target = attr_targets[:, cols]
        if not group.multi_label:
            # (N, 1) -> (N, )
            target = target[:, 0]
        inputs.append((logits, target, attr_weights))
    loss_sums = None
    if layout.groups:
        # (N, A) -> (N, M), (N, D) -> (N, M): the batched groups' columns
        pred = (
            attr_preds
            if layout.all_logits
            else attr_preds.index_select(1, layout.logit_cols)
        )
        target = (
            attr_targets
            if layout.all_labels
            else attr_targets.index_select(1, layout.label_cols)
        )
        loss_sums, weight_sums = attr_binary_cross_entropy_segments(
            pred,
            target,
            layout.segment,
            len(layout.groups),
            attr_weights,
            layout.class_weight if layout.has_class_weight else None,
        )
    # (G, ): summed weight of every group's known targets, mean of ranks
    if layout.all_groups:
        weight_sum = weight_sums.float()
    else:
        parts = list(weight_sums.float().unbind()) if layout.groups else []
        per_group = iter(parts)
        weight_sum = torch.stack(
            [
                next(per_group)
                if args is None
                else loss.weight_sum(*args).float()
                for loss, args in zip(losses, inputs)
            ]
        )
    avg_factors = reduce_mean(weight_sum)
    out: List[Optional[Tensor]] = [None] * len(spec)
    if layout.groups:
        # as the group's loss: loss_weight * (sum / (avg_factor + eps)),
        # or loss_weight * sum without 'mean' reduction
        divisor = avg_factors
        if not layout.all_groups:
            divisor = avg_factors[layout.groups]
        divisor = torch.where(layout.mean, divisor + _EPS, 1.0)
        batched_losses = layout.loss_weight * (loss_sums / divisor)
        for g, loss in zip(layout.groups, batched_losses.unbind()):
            out[g] = loss
    for g, (loss, args) in enumerate(zip(losses, inputs)):
        if args is not None:
            out[g] = loss(
                *args,
                avg_factor=(
                    avg_factors[g] if loss.reduction == 'mean' else None
                ),
            )
    return tuple(out)
