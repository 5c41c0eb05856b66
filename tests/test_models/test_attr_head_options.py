"""Head options of the ablation study: the MLP attribute classifiers and the
warm-up of the attribute match costs."""

import copy
from types import SimpleNamespace

import pytest
import torch
from attr_model_utils import ATTRIBUTE_GROUPS
from mmdet.registry import MODELS
from mmengine.model import MMDistributedDataParallel

from mmmultilabel.engine import AttrMatchCostWarmupHook
from mmmultilabel.models import (
    AttrBinaryCrossEntropyCost,
    AttrClassificationCost,
)
from mmmultilabel.models.utils import attr_logit_channels
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)


def _losses(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model(**data, mode='loss')


def test_mlp_attribute_classifiers(attr_model_cfg, make_batch):
    cfg = copy.deepcopy(attr_model_cfg)
    cfg['panoptic_head']['attr_head_layers'] = 3
    model = MODELS.build(cfg)
    embed = model.panoptic_head.attr_embed
    channels = model.panoptic_head.cls_embed.in_features
    # like mmdet's mask_embed: Linear-ReLU-Linear-ReLU-Linear
    assert [type(m).__name__ for m in embed] == [
        'Linear',
        'ReLU',
        'Linear',
        'ReLU',
        'Linear',
    ]
    assert embed[0].in_features == embed[2].out_features == channels
    assert embed[-1].out_features == sum(attr_logit_channels(SPEC))
    losses = _losses(model, make_batch())
    sum(losses.values()).backward()
    assert embed[0].weight.grad.abs().sum() > 0
    for name in SPEC.names:
        assert torch.isfinite(losses[f'loss_attr_{name}'])


@pytest.mark.parametrize('layers', [0, 1.5, -2])
def test_bad_number_of_layers_is_refused(attr_model_cfg, layers):
    cfg = copy.deepcopy(attr_model_cfg)
    cfg['panoptic_head']['attr_head_layers'] = layers
    with pytest.raises(ValueError, match='attr_head_layers'):
        MODELS.build(cfg)


def _runner(model, it=0):
    return SimpleNamespace(model=model, iter=it)


def test_warmup_scales_the_matcher_costs_of_the_head(attr_model):
    assigner = attr_model.panoptic_head.assigner
    costs = [
        c
        for c in assigner.match_costs
        if isinstance(c, (AttrClassificationCost, AttrBinaryCrossEntropyCost))
    ]
    assert len(costs) == 2
    costs[0].weight, costs[1].weight = 2.0, 0.5
    others = [c.weight for c in assigner.match_costs if c not in costs]
    hook = AttrMatchCostWarmupHook(warmup_iters=200)
    runner = _runner(attr_model)
    hook.before_train(runner)
    for it, scale in [(0, 0.0), (50, 0.25), (100, 0.5), (200, 1), (900, 1)]:
        runner.iter = it
        hook.before_train_iter(runner, batch_idx=it)
        assert [c.weight for c in costs] == [2.0 * scale, 0.5 * scale]
        # the matcher's other costs keep their weights
        assert [c.weight for c in assigner.match_costs if c not in costs] == (
            others
        )
    runner.iter = 10
    hook.before_train_iter(runner, batch_idx=10)
    hook.after_train(runner)
    assert [c.weight for c in costs] == [2.0, 0.5]


def test_warmup_reaches_a_wrapped_model(attr_model):
    # mmengine recognises wrappers by type; use one without a process group
    wrapped = MMDistributedDataParallel.__new__(MMDistributedDataParallel)
    torch.nn.Module.__init__(wrapped)
    wrapped.module = attr_model
    hook = AttrMatchCostWarmupHook(warmup_iters=10)
    runner = _runner(wrapped, it=5)
    hook.before_train(runner)
    hook.before_train_iter(runner, batch_idx=5)
    costs = attr_model.panoptic_head._attr_costs
    assert [c.weight for c in costs] == [0.5, 0.5]


def test_warmup_without_attribute_costs_is_refused(attr_model):
    attr_model.panoptic_head._attr_costs = []
    with pytest.raises(ValueError, match='no attribute match costs'):
        AttrMatchCostWarmupHook().before_train(_runner(attr_model))
    with pytest.raises(ValueError, match='warmup_iters'):
        AttrMatchCostWarmupHook(warmup_iters=0)
