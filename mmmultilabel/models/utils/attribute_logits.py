"""Layout and decoding of the attribute logits predicted for every query.

The head's ``cls_pred`` is the class logits (``num_classes + 1``) followed
by the attribute logits. The attribute logits of one query are the logits
of every group, in the order of :class:`~mmmultilabel.utils.AttributeSpec`,
concatenated along the last dimension (``A`` channels in all):

* a single-label group with ``K`` values has ``K + 1`` logits, the last one
  being its own "no object" slot (like the class head);
* a multi-label group with ``K`` values has ``K`` logits, one sigmoid each.

Logits become scores (:func:`attr_logits_to_scores`), scores become labels
(:func:`decode_attr_scores`) and unsure groups become unknown
(:func:`mark_unknown_attrs`) here only: the fusion head decodes the model's
output with these functions and the inferencer applies its thresholds with
the same rule.
"""

import os.path as osp
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from mmmultilabel.utils import UNKNOWN, AttributeSpec

# A threshold per group: one for every group, or ``{group: thr}``.
AttrThrs = Union[float, Mapping[str, float], None]


def build_attr_spec(
    attribute_groups: Union[Sequence[dict], str, None], owner: str
) -> AttributeSpec:
    """The :class:`AttributeSpec` of a head's ``attribute_groups`` argument.

    Args:
        attribute_groups (Sequence[dict] | str, optional): The groups, each
            ``dict(name=..., values=[...], multi_label=False)``, or the path
            of an annotation file whose ``attribute_groups`` are taken
            (handy for data sets with hundreds of values, e.g.
            Fashionpedia).
        owner (str): Name of the module, for the error message.

    Raises:
        FileNotFoundError: if ``attribute_groups`` is a path that does not
            exist.
    """
    if isinstance(attribute_groups, str) and not osp.isfile(attribute_groups):
        raise FileNotFoundError(
            f'{owner}: attribute_groups is the path {attribute_groups!r}, '
            'which is not a file (relative paths start at the working '
            'directory); give the annotation file or the list of groups, '
            "e.g. [dict(name='color', values=['red', 'green'])]"
        )
    return AttributeSpec(attribute_groups)


def attr_logit_channels(spec: AttributeSpec) -> List[int]:
    """Number of logits of each group, in group order.

    Args:
        spec (AttributeSpec): The attribute groups.

    Returns:
        list[int]: ``num_values + 1`` for a single-label group,
        ``num_values`` for a multi-label group.
    """
    return list(_logit_channels(spec.groups))


@lru_cache(maxsize=None)
def _logit_channels(groups: tuple) -> tuple:
    """:func:`attr_logit_channels` of hashable groups, computed once."""
    return tuple(
        g.num_values if g.multi_label else g.num_values + 1 for g in groups
    )


def split_attr_logits(
    attr_logits: Tensor, spec: AttributeSpec
) -> List[Tensor]:
    """Split concatenated attribute logits into one tensor per group.

    Args:
        attr_logits (Tensor): Attribute logits of shape (..., A).
        spec (AttributeSpec): The attribute groups.

    Returns:
        list[Tensor]: One tensor per group, of shape (..., num_values + 1)
        for a single-label group and (..., num_values) for a multi-label
        group. Empty when ``spec`` has no group.
    """
    channels = attr_logit_channels(spec)
    if attr_logits.shape[-1] != sum(channels):
        raise ValueError(
            f'attribute logits have {attr_logits.shape[-1]} channels but the '
            f'groups {spec.names} need {sum(channels)} '
            f'(per group: {channels})'
        )
    if not channels:
        return []
    return list(attr_logits.split(channels, dim=-1))


def split_class_attr_logits(
    logits: Tensor, num_classes: int, spec: AttributeSpec
) -> Tuple[Tensor, Tensor]:
    """Split a head's ``cls_pred`` into class and attribute logits.

    Args:
        logits (Tensor): Shape (..., num_classes + 1 + A).
        num_classes (int): Number of classes (without the no-object one).
        spec (AttributeSpec): The attribute groups.

    Returns:
        tuple[Tensor, Tensor]: Class logits (..., num_classes + 1) and
        attribute logits (..., A).

    Raises:
        ValueError: if the number of channels does not fit.
    """
    num_cls = num_classes + 1
    num_attr = sum(attr_logit_channels(spec))
    if logits.shape[-1] != num_cls + num_attr:
        raise ValueError(
            f'the logits have {logits.shape[-1]} channels; expected '
            f'{num_cls} class and {num_attr} attribute logits for the '
            f'attribute groups {spec.names}: give the head and the fusion '
            'head the same attribute_groups'
        )
    return logits.split([num_cls, num_attr], dim=-1)


def attr_logits_to_scores(attr_logits: Tensor, spec: AttributeSpec) -> Tensor:
    """Probability of every value of every group.

    A single-label group is a softmax over its values and its no-object
    slot, with the no-object column then dropped; a multi-label group is a
    sigmoid per value. Columns follow
    :attr:`~mmmultilabel.utils.AttributeSpec.score_slices`.

    Args:
        attr_logits (Tensor): Attribute logits of shape (..., A).
        spec (AttributeSpec): The attribute groups.

    Returns:
        Tensor: Scores of shape (..., S), ``S = spec.num_values``.
    """
    scores = [
        logits.sigmoid() if group.multi_label else logits.softmax(-1)[..., :-1]
        for group, logits in zip(spec, split_attr_logits(attr_logits, spec))
    ]
    if not scores:
        return attr_logits.new_zeros(attr_logits.shape[:-1] + (0,))
    return torch.cat(scores, dim=-1)


def attr_group_thrs(
    thrs: AttrThrs, spec: AttributeSpec, arg_name: str
) -> Dict[str, float]:
    """``{group: thr}`` of the groups that have an unknown threshold.

    Args:
        thrs (float | dict[str, float], optional): One threshold for every
            group, or ``{group: thr}`` for some; None for none.
        spec (AttributeSpec): The attribute groups.
        arg_name (str): Name of the argument, for the error message.

    Returns:
        dict[str, float]: Threshold of each listed group.

    Raises:
        ValueError: for an undeclared group or a threshold outside [0, 1].
    """
    if thrs is None:
        return {}
    if isinstance(thrs, Mapping):
        group_thrs = {str(k): float(v) for k, v in thrs.items()}
    else:
        group_thrs = {name: float(thrs) for name in spec.names}
    undeclared = sorted(set(group_thrs) - set(spec.names))
    if undeclared:
        raise ValueError(
            f'{arg_name} names undeclared attribute group(s) {undeclared}; '
            f'declared groups are {spec.names}'
        )
    for name, thr in group_thrs.items():
        if not 0.0 <= thr <= 1.0:
            raise ValueError(
                f'{arg_name} of group "{name}" is {thr}; give a probability '
                'in [0, 1]'
            )
    return group_thrs


def decode_attr_scores(
    attr_scores: Tensor, spec: AttributeSpec, value_thr: float = 0.5
) -> Tensor:
    """Attribute labels of the scores, no group unknown.

    Args:
        attr_scores (Tensor): Scores of shape (..., S), as
            :func:`attr_logits_to_scores` gives them.
        spec (AttributeSpec): The attribute groups.
        value_thr (float): A multi-label value is present when its
            probability is at least ``value_thr``. Defaults to 0.5.

    Returns:
        Tensor: Labels (..., D), long, in the encoding of
        :class:`~mmmultilabel.utils.AttributeSpec`: the most probable value
        of a single-label group (the first on a tie), 0/1 per value of a
        multi-label group.
    """
    labels = [
        (probs >= value_thr).long()
        if group.multi_label
        else probs.argmax(-1, keepdim=True)
        for group, probs in _group_scores(attr_scores, spec)
    ]
    if not labels:
        return attr_scores.new_zeros(attr_scores.shape[:-1] + (0,)).long()
    return torch.cat(labels, dim=-1)


def mark_unknown_attrs(
    attr_labels: Tensor,
    attr_scores: Tensor,
    spec: AttributeSpec,
    group_thrs: Dict[str, float],
    no_object: bool = False,
) -> Tensor:
    """Set the groups that are unsure at their threshold to unknown (-1).

    The one "unknown" rule of the package, for a group with threshold
    ``thr`` (groups without one are left as they are):

    - a single-label group is unknown when the probability of its label's
      value is below ``thr``;
    - a multi-label group is unknown when one of its values is unsure: its
      probability lies strictly between ``1 - thr`` and ``thr`` (so
      ``thr <= 0.5`` never makes it unknown).

    With ``no_object`` (the fusion head's decoding), a single-label group is
    also unknown when its no-object slot (probability ``1 - sum`` of its
    values') is more probable than its label's value: the model judges
    that none of the values applies. Thresholds given after the model (the
    inferencer's ``attr_thr``) leave that judgement to the model, so that a
    threshold of 0 changes nothing. A group that is already unknown stays
    unknown.

    Args:
        attr_labels (Tensor): Labels of shape (..., D).
        attr_scores (Tensor): Scores of shape (..., S).
        spec (AttributeSpec): The attribute groups.
        group_thrs (dict[str, float]): Threshold per group (see
            :func:`attr_group_thrs`).
        no_object (bool): Apply the no-object rule to the single-label
            groups in ``group_thrs``. Defaults to False.

    Returns:
        Tensor: A new label tensor (..., D).
    """
    unknown = torch.zeros_like(attr_labels, dtype=torch.bool)
    for (group, probs), cols in zip(
        _group_scores(attr_scores, spec), spec.label_slices.values()
    ):
        thr = group_thrs.get(group.name)
        if thr is None:
            continue
        if group.multi_label:
            # (..., K) -> (..., 1): any value neither surely on nor off
            unsure = ((probs > 1 - thr) & (probs < thr)).any(-1, True)
        else:
            # (..., 1): probability of the label's value
            chosen = probs.gather(-1, attr_labels[..., cols].clamp(min=0))
            unsure = chosen < thr
            if no_object:
                unsure |= 1 - probs.sum(-1, keepdim=True) > chosen
        unknown[..., cols] = unsure
    return attr_labels.masked_fill(unknown, UNKNOWN)


def attr_confidence(attr_scores: Tensor, spec: AttributeSpec) -> Tensor:
    """How sure the attribute predictions of each query are.

    Args:
        attr_scores (Tensor): Scores of shape (..., S).
        spec (AttributeSpec): The attribute groups.

    Returns:
        Tensor: Shape (...): the geometric mean over groups of the group
        confidence, the largest value probability (single-label) or the
        mean over values of ``max(p, 1 - p)`` (multi-label); 1 without
        groups.
    """
    confs = [
        torch.maximum(probs, 1 - probs).mean(-1)
        if group.multi_label
        else probs.max(-1).values
        for group, probs in _group_scores(attr_scores, spec)
    ]
    if not confs:
        return attr_scores.new_ones(attr_scores.shape[:-1])
    # (..., G) -> (...): geometric mean over groups
    return torch.stack(confs, dim=-1).clamp(min=1e-12).log().mean(-1).exp()


def decode_attr_logits(
    attr_logits: Tensor,
    spec: AttributeSpec,
    value_thr: float = 0.5,
    group_thrs: Optional[Dict[str, float]] = None,
) -> Tuple[Tensor, Tensor, Tensor]:
    """Attribute labels, scores and confidence of attribute logits.

    Args:
        attr_logits (Tensor): Shape (..., A).
        spec (AttributeSpec): The attribute groups.
        value_thr (float): See :func:`decode_attr_scores`.
        group_thrs (dict[str, float], optional): Unknown thresholds, see
            :func:`mark_unknown_attrs` (with the no-object rule). Defaults
            to None (none).

    Returns:
        tuple[Tensor, Tensor, Tensor]: Labels (..., D), long; scores
        (..., S) (:func:`attr_logits_to_scores`); confidence (...)
        (:func:`attr_confidence`).
    """
    scores = attr_logits_to_scores(attr_logits, spec)
    labels = decode_attr_scores(scores, spec, value_thr)
    if group_thrs:
        labels = mark_unknown_attrs(
            labels, scores, spec, group_thrs, no_object=True
        )
    return labels, scores, attr_confidence(scores, spec)


def attr_predictions(
    attr_labels: Sequence[int],
    attr_scores: Sequence[float],
    spec: AttributeSpec,
    category: Optional[str] = None,
) -> dict:
    """``{group: {'value': ..., 'score': ...}}`` of one instance.

    Args:
        attr_labels (Sequence[int]): Label row of width D.
        attr_scores (Sequence[float]): Score row of width S.
        spec (AttributeSpec): The attribute groups.
        category (str, optional): Class name of the instance: the groups
            that do not apply to it are left out. Defaults to None.

    Returns:
        dict: single-label group ``{'value': str, 'score': float}``;
        multi-label group ``{'value': [str], 'score': [float]}`` (the
        present values and their probabilities); a group with an unknown
        column ``{'value': None, 'score': None}``.
    """
    out = {}
    for group, chosen in spec.chosen_indices(attr_labels):
        if category is not None and not group.applies_to(category):
            continue
        if chosen is None:
            out[group.name] = dict(value=None, score=None)
            continue
        probs = attr_scores[spec.score_slices[group.name]]
        values = [group.values[k] for k in chosen]
        scores = [float(probs[k]) for k in chosen]
        out[group.name] = (
            dict(value=values, score=scores)
            if group.multi_label
            else dict(value=values[0], score=scores[0])
        )
    return out


def _group_scores(attr_scores: Tensor, spec: AttributeSpec):
    """``(group, scores (..., K))`` of every group, in group order."""
    if attr_scores.shape[-1] != spec.num_values:
        raise ValueError(
            f'attribute scores have {attr_scores.shape[-1]} columns but the '
            f'groups {spec.names} need {spec.num_values}'
        )
    return [
        (group, attr_scores[..., cols])
        for group, cols in zip(spec, spec.score_slices.values())
    ]
