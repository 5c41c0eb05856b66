"""AttrGroupsCheckHook refuses a model whose groups differ from the data's."""

from types import SimpleNamespace

import pytest
import torch

from mmmultilabel.engine import AttrGroupsCheckHook
from mmmultilabel.utils import AttributeSpec

GROUPS = [
    dict(name='color', values=['red', 'green']),
    dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
]


class Head(torch.nn.Module):
    def __init__(self, groups, num_classes=2):
        super().__init__()
        self.attr_spec = AttributeSpec(groups)
        self.num_classes = num_classes


def _runner(model_groups, data_groups):
    dataset = SimpleNamespace(
        metainfo=dict(classes=('a', 'b'), attribute_groups=data_groups)
    )
    loader = SimpleNamespace(dataset=dataset)
    model = torch.nn.Sequential(Head(model_groups))
    return SimpleNamespace(
        model=model,
        train_dataloader=loader,
        val_dataloader=loader,
        logger=None,
    )


def test_same_groups_pass():
    hook = AttrGroupsCheckHook()
    hook.before_train_epoch(_runner(GROUPS, GROUPS))
    hook.before_val_epoch(_runner(GROUPS, GROUPS))


def test_reordered_values_are_refused():
    swapped = [dict(GROUPS[0], values=['green', 'red']), GROUPS[1]]
    with pytest.raises(ValueError, match='differ from those of the train'):
        AttrGroupsCheckHook().before_train_epoch(_runner(GROUPS, swapped))


def test_wrong_number_of_classes_is_refused_as_in_mmdet():
    runner = _runner(GROUPS, GROUPS)
    runner.train_dataloader.dataset.metainfo['classes'] = ('a', 'b', 'c')
    with pytest.raises(AssertionError, match='num_classes'):
        AttrGroupsCheckHook().before_train_epoch(runner)
