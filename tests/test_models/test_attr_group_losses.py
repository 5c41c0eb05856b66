"""The head's attribute losses of one decoder layer, multi-label groups
computed together, against a straightforward per-group computation."""

import copy
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from attr_model_utils import random_attr_labels
from mmdet.registry import MODELS

from mmmultilabel.models import AttrBinaryCrossEntropyLoss
from mmmultilabel.models.losses.attr_group_losses import AttrGroupLosses
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

EPS = torch.finfo(torch.float32).eps
#: Fashionpedia-like: multi-label groups only.
MULTI_ONLY = [
    dict(name='a', values=['a0', 'a1', 'a2', 'a3'], multi_label=True),
    dict(name='b', values=['b0', 'b1', 'b2'], multi_label=True),
    dict(name='d', values=[f'd{k}' for k in range(5)], multi_label=True),
]
#: Multi-label groups around a single-label one.
MIXED = [
    MULTI_ONLY[0],
    dict(name='c', values=['c0', 'c1']),
    MULTI_ONLY[1],
    MULTI_ONLY[2],
]
VALUE_WEIGHTS = dict(b=[0.5, 2.0, 1.5])
LOSS_WEIGHTS = dict(d=0.25)
BASE_WEIGHT = 2.0  # the head's default loss_weight


def build_head(model_cfg, groups, **overrides):
    cfg = copy.deepcopy(model_cfg['panoptic_head'])
    cfg.update(
        train_cfg=model_cfg['train_cfg'],
        test_cfg=model_cfg['test_cfg'],
        attribute_groups=groups,
        attr_value_weights=VALUE_WEIGHTS,
        attr_loss_weights=LOSS_WEIGHTS,
    )
    cfg.update(overrides)
    return MODELS.build(cfg)


def random_inputs(groups, batch=3, queries=7, seed=0):
    """Logits (B, Q, A), label rows (B, Q, D) with unknown groups and
    unknown values, and query weights (B, Q) with unmatched queries."""
    gen = torch.Generator().manual_seed(seed)
    logits, labels = [], []
    for g in groups:
        k = len(g['values'])
        if g.get('multi_label'):
            logits.append(torch.randn(batch, queries, k, generator=gen))
            rows = (torch.rand(batch, queries, k, generator=gen) < 0.3).long()
            rows[torch.rand(batch, queries, k, generator=gen) < 0.1] = -1
        else:
            logits.append(torch.randn(batch, queries, k + 1, generator=gen))
            rows = torch.randint(0, k + 1, (batch, queries, 1), generator=gen)
        unknown = torch.rand(batch, queries, generator=gen) < 0.2
        rows[unknown] = -1
        labels.append(rows)
    weights = torch.where(
        torch.rand(batch, queries, generator=gen) < 0.6, 1.0, 0.3
    )
    preds = torch.cat(logits, -1).requires_grad_()
    return preds, torch.cat(labels, -1), weights


def per_group_losses(groups, preds, targets, weights):
    """Each group on its own with torch's losses: sum of weighted losses
    over known targets divided by the sum of their weights."""
    # (B, Q, *) -> (B * Q, *)
    preds, targets = preds.flatten(0, 1), targets.flatten(0, 1)
    weights = weights.flatten()
    out, logit, col = [], 0, 0
    for g in groups:
        k = len(g['values'])
        scale = BASE_WEIGHT * LOSS_WEIGHTS.get(g['name'], 1.0)
        if g.get('multi_label'):
            logits = preds[:, logit : logit + k]
            target = targets[:, col : col + k]
            known = target != -1
            loss = F.binary_cross_entropy_with_logits(
                logits, target.clamp(min=0).float(), reduction='none'
            )
            value_weight = torch.tensor(
                VALUE_WEIGHTS.get(g['name'], [1.0] * k)
            )
            weight = known.float() * weights[:, None] * value_weight
            logit, col = logit + k, col + k
        else:
            logits = preds[:, logit : logit + k + 1]
            target = targets[:, col]
            known = target != -1
            loss = F.cross_entropy(
                logits, target.clamp(min=0), reduction='none'
            )
            weight = known.float() * weights
            logit, col = logit + k + 1, col + 1
        out.append(scale * (loss * weight).sum() / (weight.sum() + EPS))
    return out


@pytest.mark.parametrize('groups', [MULTI_ONLY, MIXED], ids=['multi', 'mixed'])
def test_batched_losses_equal_per_group_losses(attr_model_cfg, groups):
    head = build_head(attr_model_cfg, groups)
    preds, targets, weights = random_inputs(groups)
    expected = per_group_losses(groups, preds, targets, weights)
    # the multi-label groups do not go through their loss module
    with mock.patch.object(
        AttrBinaryCrossEntropyLoss,
        '_criterion',
        side_effect=AssertionError('per-group call'),
    ):
        got = head._loss_attr(preds, targets, weights)
    assert len(got) == len(groups)
    for value, want in zip(got, expected):
        torch.testing.assert_close(value, want, rtol=1e-6, atol=1e-7)
    grad = torch.autograd.grad(sum(got), preds)[0]
    want_grad = torch.autograd.grad(sum(expected), preds)[0]
    torch.testing.assert_close(grad, want_grad, rtol=1e-6, atol=1e-8)
    assert all(v > 0 for v in expected)


def test_layer_losses_keep_their_names(attr_model_cfg):
    head = build_head(attr_model_cfg, MIXED)
    names = head._name_layer_losses([[torch.zeros(())] * 2] * (3 + 4))
    assert set(names) == {
        f'{prefix}loss_{name}'
        for prefix in ('', 'd0.')
        for name in ['cls', 'mask', 'dice', 'attr_a', 'attr_c']
        + ['attr_b', 'attr_d']
    }


@MODELS.register_module(force=True)
class RenamedBCELoss(AttrBinaryCrossEntropyLoss):
    """A subclass that computes as its base: batched like it."""


@MODELS.register_module(force=True)
class DoubledBCELoss(AttrBinaryCrossEntropyLoss):
    """A subclass that computes otherwise: its own call."""

    def _criterion(self, pred, target, **kwargs):
        return 2 * super()._criterion(pred, target, **kwargs)


def multi_loss(type_, **kwargs):
    return dict(type=type_, loss_weight=BASE_WEIGHT, **kwargs)


@pytest.mark.parametrize(
    'loss_attr_multi, scale',
    [
        (multi_loss('AttrBinaryCrossEntropyLoss', check_targets=True), 1),
        (multi_loss('AttrFocalLoss', gamma=0.0, alpha=None), 1),
        (multi_loss('DoubledBCELoss'), 2),
    ],
    ids=['checked', 'focal', 'subclass-computing-otherwise'],
)
def test_groups_that_compute_otherwise_keep_their_own_loss(
    attr_model_cfg, loss_attr_multi, scale
):
    """Groups whose loss is not the plain unchecked binary cross-entropy
    are computed by their loss module, with its result."""
    groups = MULTI_ONLY
    preds, targets, weights = random_inputs(groups, seed=1)
    expected = per_group_losses(groups, preds, targets, weights)
    head = build_head(attr_model_cfg, groups, loss_attr_multi=loss_attr_multi)
    assert head.attr_group_losses.batched == []
    with mock.patch.object(
        AttrGroupLosses, '_batched_sums', side_effect=AssertionError('batched')
    ):
        got = head._loss_attr(preds, targets, weights)
    for value, want in zip(got, expected):
        torch.testing.assert_close(value, scale * want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize('groups', [MULTI_ONLY, MIXED], ids=['multi', 'mixed'])
def test_subclass_computing_as_its_base_gives_the_same_numbers(
    attr_model_cfg, make_batch, groups
):
    """A subclass of the binary cross-entropy that changes nothing of its
    computation takes the batched path too: the model's losses and
    gradients are those of the base, bit for bit."""
    results = []
    for type_ in ('AttrBinaryCrossEntropyLoss', 'RenamedBCELoss'):
        cfg = copy.deepcopy(attr_model_cfg)
        cfg['panoptic_fusion_head']['attribute_groups'] = groups
        cfg['panoptic_head'].update(
            attribute_groups=groups,
            loss_attr_multi=multi_loss(type_),
            attr_value_weights=VALUE_WEIGHTS,
            attr_loss_weights=LOSS_WEIGHTS,
            attr_no_object_weight=0.5,
        )
        torch.manual_seed(0)
        model = MODELS.build(cfg)
        batched = model.panoptic_head.attr_group_losses.batched
        assert [groups[g]['name'] for g in batched] == ['a', 'b', 'd']
        batch = make_batch(num_gts=(3, 2), with_attr=False)
        spec = AttributeSpec(groups)
        for i, sample in enumerate(batch['data_samples']):
            rng = np.random.RandomState(i)
            rows = random_attr_labels(spec, len(sample.gt_instances), rng)
            rows[:, 0] = -1  # an unknown value
            sample.gt_instances.attr_labels = rows
        data = model.data_preprocessor(batch, True)
        torch.manual_seed(1)
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
        grads = {
            n: p.grad
            for n, p in model.named_parameters()
            if p.grad is not None
        }
        results.append((losses, grads))
    (base_losses, base_grads), (losses, grads) = results
    assert base_losses.keys() == losses.keys()
    assert {'loss_attr_a', 'd0.loss_attr_d'} <= losses.keys()
    for name, value in losses.items():
        assert torch.equal(value, base_losses[name]), name
    assert base_grads.keys() == grads.keys()
    for name, grad in grads.items():
        assert torch.equal(grad, base_grads[name]), name


def test_all_unknown_gives_zero_losses_in_the_graph(attr_model_cfg):
    head = build_head(attr_model_cfg, MULTI_ONLY)
    preds, targets, weights = random_inputs(MULTI_ONLY)
    got = head._loss_attr(preds, torch.full_like(targets, -1), weights)
    assert [float(v.detach()) for v in got] == [0.0] * len(MULTI_ONLY)
    assert all(v.requires_grad for v in got)
