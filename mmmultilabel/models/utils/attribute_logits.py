"""Layout of the attribute logits that the head predicts for every query.

The attribute logits of one query are the logits of every group, in the
order of :class:`~mmmultilabel.utils.AttributeSpec`, concatenated along the
last dimension (``A`` channels in all):

* a single-label group with ``K`` values has ``K + 1`` logits, the last one
  being its own "no object" slot (like the class head);
* a multi-label group with ``K`` values has ``K`` logits, one sigmoid each.
"""

import os.path as osp
from functools import lru_cache
from typing import List, Sequence, Union

import torch
from torch import Tensor

from mmmultilabel.utils import AttributeSpec


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
