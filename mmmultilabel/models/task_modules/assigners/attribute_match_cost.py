"""Match costs that let the Hungarian matcher see the attributes.

Both costs read

* ``pred_instances.attr_logits``: attribute logits of shape
  (num_queries, A), laid out as in
  :mod:`mmmultilabel.models.utils.attribute_logits`, with the
  :class:`~mmmultilabel.utils.AttributeSpec` in
  ``pred_instances.metainfo['attribute_spec']``;
* ``gt_instances.attr_labels``: encoded labels of shape (num_gts, D).

:class:`~mmmultilabel.models.AttrMask2FormerHead` fills in all three. A
ground truth whose group is unknown costs 0 for that group, so unknown
labels never pull the matching.
"""

from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor

from mmmultilabel.utils import UNKNOWN, AttributeGroup

from ...utils import split_attr_logits


def _groups_with_inputs(
    pred_instances: InstanceData, gt_instances: InstanceData, multi_label: bool
) -> List[Tuple[AttributeGroup, Tensor, Tensor]]:
    """The groups of one kind with their logits and ground truth columns.

    Returns:
        list[tuple]: ``(group, logits, gt_columns)`` with logits of shape
        (num_queries, out_g) and ground truth of shape (num_gts, d_g).
    """
    spec = pred_instances.metainfo.get('attribute_spec')
    if (
        spec is None
        or 'attr_logits' not in pred_instances
        or 'attr_labels' not in gt_instances
    ):
        raise KeyError(
            'attribute match costs need pred_instances.attr_logits with '
            "metainfo['attribute_spec'] and gt_instances.attr_labels, as "
            'AttrMask2FormerHead provides; use them with that head'
        )
    logits = split_attr_logits(pred_instances.attr_logits, spec)
    gt_labels = gt_instances.attr_labels
    return [
        (group, group_logits, gt_labels[:, cols])
        for group, group_logits, cols in zip(
            spec, logits, spec.label_slices.values()
        )
        if group.multi_label == multi_label
    ]


class _AttrGroupsCost(BaseMatchCost):
    """Sum of a per-group cost over the attribute groups of one kind.

    Subclasses set :attr:`multi_label` (which groups they score) and
    implement :meth:`group_cost`.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    multi_label: bool = False

    def group_cost(self, logits: Tensor, gt: Tensor) -> Tensor:
        """Cost of one group.

        Args:
            logits (Tensor): The group's logits, shape (num_queries, out_g).
            gt (Tensor): The group's label columns, shape (num_gts, d_g).

        Returns:
            Tensor: Shape (num_queries, num_gts).
        """
        raise NotImplementedError

    @torch.no_grad()
    def __call__(
        self,
        pred_instances: InstanceData,
        gt_instances: InstanceData,
        img_meta: Optional[dict] = None,
        **kwargs,
    ) -> Tensor:
        """Compute the cost matrix.

        Args:
            pred_instances (:obj:`InstanceData`): ``attr_logits`` of shape
                (num_queries, A) and metainfo ``attribute_spec``.
            gt_instances (:obj:`InstanceData`): ``attr_labels`` of shape
                (num_gts, D).
            img_meta (dict, optional): Unused.

        Returns:
            Tensor: Cost matrix of shape (num_queries, num_gts).
        """
        cost = pred_instances.attr_logits.new_zeros(
            (len(pred_instances), len(gt_instances))
        )
        for _, logits, gt in _groups_with_inputs(
            pred_instances, gt_instances, multi_label=self.multi_label
        ):
            cost = cost + self.group_cost(logits, gt)
        return cost * self.weight


@TASK_UTILS.register_module()
class AttrClassificationCost(_AttrGroupsCost):
    """Classification cost of the single-label attribute groups.

    For every single-label group, the cost of matching query ``q`` to ground
    truth ``n`` is ``-p_q(v_n)``, the softmax probability (over values and
    no-object slot) of the ground truth value, as mmdet's
    ``ClassificationCost``; the costs of the groups are summed.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    multi_label = False

    def group_cost(self, logits: Tensor, gt: Tensor) -> Tensor:
        # (num_gts, 1) -> (num_gts, )
        gt = gt[:, 0]
        known = gt != UNKNOWN
        # (num_queries, K + 1) -> (num_queries, num_gts)
        prob = logits.softmax(-1)[:, gt.clamp(min=0)]
        return -prob * known[None].float()


@TASK_UTILS.register_module()
class AttrBinaryCrossEntropyCost(_AttrGroupsCost):
    """Binary cross-entropy cost of the multi-label attribute groups.

    For every multi-label group, the cost of matching query ``q`` to ground
    truth ``n`` is the mean over the group's values of the sigmoid binary
    cross-entropy between the query's logits and the ground truth's 0/1
    labels (unknown labels count 0), as mmdet's ``CrossEntropyLossCost``;
    the costs of the groups are summed.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    multi_label = True

    def group_cost(self, logits: Tensor, gt: Tensor) -> Tensor:
        logits = logits.float()
        known = (gt != UNKNOWN).float()
        pos_target = gt.clamp(min=0).float() * known
        neg_target = (1 - gt.clamp(min=0).float()) * known
        # (num_queries, K): cost of each value being present / absent
        pos = F.binary_cross_entropy_with_logits(
            logits, torch.ones_like(logits), reduction='none'
        )
        neg = F.binary_cross_entropy_with_logits(
            logits, torch.zeros_like(logits), reduction='none'
        )
        # (num_queries, K) x (num_gts, K) -> (num_queries, num_gts)
        group_cost = torch.einsum('qk,nk->qn', pos, pos_target) + torch.einsum(
            'qk,nk->qn', neg, neg_target
        )
        return group_cost / logits.shape[-1]
