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

Both costs are bilinear: ``cost(q, n) = weight * <f(q), g(n)>``, with
query features :meth:`~AttrGroupsCost.pred_features` of the logits and
ground truth features :meth:`~AttrGroupsCost.gt_features` of the labels.
The matcher calls a cost once per image and decoder layer; the head
computes the features beforehand, once per decoder layer for the whole
batch and once per image for the ground truth, and hands them over in the
fields named :attr:`~AttrGroupsCost.feature_field`, so each call is one
matrix product. Given only the logits and labels, a cost computes the
features itself.

Features and products are computed in float32 with autocast disabled: under
mixed precision ``torch.mm`` would otherwise run in float16 / bfloat16, too
coarse for costs that differ by little across wide logits.
"""

from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from torch import Tensor

from mmmultilabel.utils import UNKNOWN, AttributeSpec

from ...utils import attr_logit_channels

Index = Dict[str, Tensor]


def _full_precision(tensor: Tensor) -> torch.autocast:
    """A block where autocast is off on the device of ``tensor``."""
    return torch.autocast(device_type=tensor.device.type, enabled=False)


def _inputs(
    pred_instances: InstanceData, gt_instances: InstanceData
) -> Tuple[AttributeSpec, Tensor, Tensor]:
    """The spec, attribute logits (Q, A) and labels (N, D) of a match."""
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
    return spec, pred_instances.attr_logits, gt_instances.attr_labels


def _group_index(spec: AttributeSpec, multi_label: bool) -> Optional[Index]:
    """Where the groups of one kind sit in the logits and label rows.

    Returns:
        dict[str, Tensor] | None: None without groups of that kind. For
        ``G`` single-label groups of at most ``K`` values:

        - ``logits`` (G, K + 1): the logit columns of each group's values
          and no-object slot, padded with ``A``, the index of a ``-inf``
          column appended to the logits;
        - ``groups`` (G, ): ``0..G-1``;
        - ``labels`` (G, ): the label column of each group.

        For multi-label groups with ``M`` values in all: ``logits`` (M, )
        and ``labels`` (M, ), the columns of each value, and ``scale``
        (2M, ), one over the number of values of the value's group, twice.
    """
    channels = attr_logit_channels(spec)
    groups = [
        (group, logit_start, label_start)
        for group, logit_start, label_start in zip(
            spec,
            [sum(channels[:i]) for i in range(len(channels))],
            [s.start for s in spec.label_slices.values()],
        )
        if group.multi_label == multi_label
    ]
    if not groups:
        return None
    if multi_label:
        logits, labels, scale = [], [], []
        for group, logit_start, label_start in groups:
            k = group.num_values
            logits += range(logit_start, logit_start + k)
            labels += range(label_start, label_start + k)
            scale += [1.0 / k] * k
        return dict(
            logits=torch.tensor(logits),
            labels=torch.tensor(labels),
            scale=torch.tensor(scale + scale),
        )
    width = max(group.num_values + 1 for group, _, _ in groups)
    pad = sum(channels)
    logits = [
        list(range(start, start + group.num_values + 1))
        + [pad] * (width - group.num_values - 1)
        for group, start, _ in groups
    ]
    return dict(
        logits=torch.tensor(logits),
        groups=torch.arange(len(groups)),
        labels=torch.tensor([start for _, _, start in groups]),
    )


class AttrGroupsCost(BaseMatchCost):
    """Bilinear cost over the attribute groups of one kind.

    Subclasses set :attr:`multi_label` (which groups they score) and
    :attr:`feature_field`, and implement :meth:`pred_features` and
    :meth:`gt_features`.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    multi_label: bool = False
    # Name of the precomputed features in pred_instances / gt_instances.
    feature_field: str = ''

    def __init__(self, weight: float = 1.0) -> None:
        super().__init__(weight=weight)
        self._index_cache: Dict[tuple, Optional[Index]] = {}

    def _index(
        self, spec: AttributeSpec, device: torch.device
    ) -> Optional[Index]:
        """:func:`_group_index` on ``device``, built once per layout."""
        key = (spec.groups, device)
        if key not in self._index_cache:
            index = _group_index(spec, self.multi_label)
            if index is not None:
                index = {k: v.to(device) for k, v in index.items()}
            self._index_cache[key] = index
        return self._index_cache[key]

    def pred_features(self, logits: Tensor, spec: AttributeSpec) -> Tensor:
        """Query features ``f``.

        Args:
            logits (Tensor): Attribute logits of shape (..., A).
            spec (AttributeSpec): The attribute groups.

        Returns:
            Tensor: Float32, shape (..., F); (..., 0) without groups of this
            kind.
        """
        index = self._index(spec, logits.device)
        if index is None:
            return logits.new_zeros(
                logits.shape[:-1] + (0,), dtype=torch.float
            )
        with _full_precision(logits):
            return self._pred_features(logits.float(), index)

    def gt_features(self, labels: Tensor, spec: AttributeSpec) -> Tensor:
        """Ground truth features ``g``.

        Args:
            labels (Tensor): Encoded labels of shape (N, D).
            spec (AttributeSpec): The attribute groups.

        Returns:
            Tensor: Shape (N, F), float; (N, 0) without groups of this kind.
        """
        index = self._index(spec, labels.device)
        if index is None:
            return labels.new_zeros((len(labels), 0), dtype=torch.float)
        return self._gt_features(labels, index)

    def _pred_features(self, logits: Tensor, index: Index) -> Tensor:
        raise NotImplementedError

    def _gt_features(self, labels: Tensor, index: Index) -> Tensor:
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
                (num_queries, A) and metainfo ``attribute_spec``; or the
                features (num_queries, F) in :attr:`feature_field`.
            gt_instances (:obj:`InstanceData`): ``attr_labels`` of shape
                (num_gts, D); or the features (num_gts, F) in
                :attr:`feature_field`.
            img_meta (dict, optional): Unused.

        Returns:
            Tensor: Cost matrix of shape (num_queries, num_gts).
        """
        pred = pred_instances.get(self.feature_field)
        gt = gt_instances.get(self.feature_field)
        if pred is None or gt is None:
            spec, logits, labels = _inputs(pred_instances, gt_instances)
            pred = self.pred_features(logits, spec)
            gt = self.gt_features(labels, spec)
        if pred.shape[-1] == 0:  # no group of this kind: (Q, 0) @ (0, N)
            return pred.new_zeros((len(pred), len(gt)), dtype=torch.float)
        if torch.is_autocast_enabled(pred.device.type):
            with _full_precision(pred):
                # (Q, F) @ (F, N) -> (Q, N)
                cost = torch.mm(pred.float(), gt.float().t())
        else:
            cost = torch.mm(pred.float(), gt.float().t())
        return cost if self.weight == 1 else cost * self.weight


@TASK_UTILS.register_module()
class AttrClassificationCost(AttrGroupsCost):
    """Classification cost of the single-label attribute groups.

    For every single-label group, the cost of matching query ``q`` to ground
    truth ``n`` is ``-p_q(v_n)``, the softmax probability (over values and
    no-object slot) of the ground truth value, as mmdet's
    ``ClassificationCost``; the costs of the groups are summed. Features:
    the probabilities of every group's values and no-object slot (padded to
    the longest group), and minus the one-hot encoding of the known ground
    truth values.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    multi_label = False
    feature_field = 'attr_cls_cost_feats'

    def _pred_features(self, logits: Tensor, index: Index) -> Tensor:
        # (..., A) -> (..., A + 1): the -inf column that pads short groups
        padded = torch.cat(
            [logits, logits.new_full(logits.shape[:-1] + (1,), -float('inf'))],
            dim=-1,
        )
        # (..., G, K + 1): softmax within every group -> (..., G * (K + 1))
        return padded[..., index['logits']].softmax(-1).flatten(-2)

    def _gt_features(self, labels: Tensor, index: Index) -> Tensor:
        num_groups, width = index['logits'].shape
        # (N, D) -> (N, G)
        labels = labels[:, index['labels']]
        # Column of each group's value in (N, G * (K + 1))
        columns = index['groups'] * width + labels.clamp(min=0)
        known = (labels != UNKNOWN).float()
        return known.new_zeros((len(labels), num_groups * width)).scatter_(
            1, columns, -known
        )


@TASK_UTILS.register_module()
class AttrBinaryCrossEntropyCost(AttrGroupsCost):
    """Binary cross-entropy cost of the multi-label attribute groups.

    For every multi-label group, the cost of matching query ``q`` to ground
    truth ``n`` is the mean over the group's values of the sigmoid binary
    cross-entropy between the query's logits and the ground truth's 0/1
    labels (unknown labels count 0), as mmdet's ``CrossEntropyLossCost``;
    the costs of the groups are summed. Features: the cross-entropy of each
    value being present and absent, over the size of its group, and the
    known 0/1 labels and their complements.

    Args:
        weight (float): Cost weight. Defaults to 1.
    """

    multi_label = True
    feature_field = 'attr_bce_cost_feats'

    def _pred_features(self, logits: Tensor, index: Index) -> Tensor:
        # (..., A) -> (..., M)
        logits = logits[..., index['logits']]
        # -log(sigmoid(x)) and -log(1 - sigmoid(x)) -> (..., 2M)
        return (
            torch.cat([F.softplus(-logits), F.softplus(logits)], dim=-1)
            * index['scale']
        )

    def _gt_features(self, labels: Tensor, index: Index) -> Tensor:
        # (N, D) -> (N, M)
        labels = labels[:, index['labels']]
        known = (labels != UNKNOWN).float()
        present = labels.clamp(min=0).float() * known
        # (N, 2M): present, absent
        return torch.cat([present, known - present], dim=1)
