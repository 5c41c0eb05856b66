"""Task balance options of the attribute head: the gradient scale of the
attribute losses, learned task weights and attribute match-cost weights
below 1."""

import copy
import math

import pytest
import torch
from attr_model_utils import ATTRIBUTE_GROUPS
from mmdet.registry import MODELS, TASK_UTILS
from mmengine.structures import InstanceData

from mmmultilabel.models.losses.task_uncertainty import UncertaintyTaskWeights
from mmmultilabel.models.utils.grad_scale import scale_grad
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)
ATTR_LOSSES = [f'loss_attr_{name}' for name in SPEC.names]


def _build(cfg, **options):
    cfg = copy.deepcopy(cfg)
    cfg['panoptic_head'].update(options)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def _losses(model, batch):
    torch.manual_seed(1)  # the matcher's sampled points
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model(**data, mode='loss')


def _grads(model, loss):
    model.zero_grad()
    loss.backward()
    return {
        n: p.grad.clone()
        for n, p in model.named_parameters()
        if p.grad is not None
    }


@pytest.mark.parametrize('scale', [0.25, 0.0])
def test_scale_grad_by_hand(scale):
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    w = torch.tensor([[2.0, 1.0], [-1.0, 4.0]], requires_grad=True)
    y = scale_grad(x, scale)
    assert torch.equal(y, x)
    # d/dx of (y * w).sum() + (x ** 2).sum() is scale * w + 2 x; w learns
    # from y at the full rate: its gradient is x.
    ((y * w).sum() + (x**2).sum()).backward()
    torch.testing.assert_close(x.grad, scale * w.detach() + 2 * x.detach())
    torch.testing.assert_close(w.grad, x.detach())


def test_scale_grad_of_one_is_the_tensor_itself():
    x = torch.ones(2, requires_grad=True)
    assert scale_grad(x, 1.0) is x


@pytest.mark.parametrize('mask_features', [False, True])
def test_attr_grad_scale_scales_what_reaches_the_shared_decoders(
    attr_model_cfg, make_batch, mask_features
):
    """Attribute losses only: the classifiers' gradients are those of plain
    backpropagation, every other parameter's are ``scale`` times them
    (the pixel decoder's too, through the pooled mask features)."""
    batch = make_batch()
    plain = _build(attr_model_cfg, attr_mask_features=mask_features)
    losses = _losses(plain, batch)
    expected = _grads(plain, sum(v for k, v in losses.items() if 'attr' in k))
    # the same model with the option (as built with attr_grad_scale=0.3)
    scaled = plain
    scaled.panoptic_head.attr_grad_scale = 0.3
    losses = _losses(scaled, batch)
    got = _grads(scaled, sum(v for k, v in losses.items() if 'attr' in k))
    assert set(got) == set(expected)
    own = ('panoptic_head.attr_embed.', 'panoptic_head.attr_pool_norm.')
    shared = [n for n in got if not n.startswith(own)]
    assert any(
        n.startswith('panoptic_head.transformer_decoder.') for n in shared
    )
    assert any(n.startswith('backbone.') for n in shared)
    if mask_features:
        assert any(n.startswith('panoptic_head.attr_pool_norm.') for n in got)
        # the mask features' last convolution feeds only the masks and the
        # pooling, which the attribute losses reach through the pooling alone
        assert 'panoptic_head.pixel_decoder.mask_feature.weight' in shared
    for name, grad in got.items():
        factor = 1.0 if name.startswith(own) else 0.3
        # relative to the whole tensor: deep gradients sum many rounded
        # terms (measured <= 3e-6 here)
        want = factor * expected[name]
        err = float((grad - want).norm() / want.norm().clamp(min=1e-30))
        assert err <= 1e-4, (name, err)


def test_attr_grad_scale_zero_keeps_attribute_losses_out_of_the_decoder(
    attr_model_cfg, make_batch
):
    model = _build(attr_model_cfg, attr_grad_scale=0.0)
    losses = _losses(model, make_batch())
    grads = _grads(model, sum(v for k, v in losses.items() if 'attr' in k))
    # only the classifiers learn from the attribute losses (the class logits
    # they are concatenated to pass zeros back to the rest)
    assert {n for n, g in grads.items() if g.abs().sum() > 0} == {
        'panoptic_head.attr_embed.weight',
        'panoptic_head.attr_embed.bias',
    }


@pytest.mark.parametrize('scale', [-1, float('nan')])
def test_bad_attr_grad_scale_is_refused(attr_model_cfg, scale):
    with pytest.raises(ValueError, match='attr_grad_scale'):
        _build(attr_model_cfg, attr_grad_scale=scale)


def test_uncertainty_weights_by_hand():
    weights = UncertaintyTaskWeights(['a', 'b'])
    with torch.no_grad():
        weights.log_vars.copy_(torch.tensor([0.5, -1.0]))
    raw = {
        'loss_a': torch.tensor(2.0, requires_grad=True),
        'd0.loss_a': torch.tensor(3.0, requires_grad=True),
        'loss_b': torch.tensor(1.5, requires_grad=True),
        'loss_other': torch.tensor(7.0, requires_grad=True),
    }
    out = weights(raw)
    assert out['loss_a'].item() == pytest.approx(2 * math.exp(-0.5) + 0.5)
    assert out['d0.loss_a'].item() == pytest.approx(3 * math.exp(-0.5) + 0.5)
    assert out['loss_b'].item() == pytest.approx(1.5 * math.e - 1.0)
    assert out['loss_other'] is raw['loss_other']
    # logged, not summed by mmengine's parse_losses (no "loss" in the key)
    assert out['task_weight_a'].item() == pytest.approx(math.exp(-0.5))
    assert out['task_weight_b'].item() == pytest.approx(math.e)
    assert not out['task_weight_a'].requires_grad
    sum(v for k, v in out.items() if 'loss' in k).backward()
    # d/ds of L exp(-s) + s is 1 - L exp(-s), once per term
    torch.testing.assert_close(
        weights.log_vars.grad,
        torch.tensor([2 - 5 * math.exp(-0.5), 1 - 1.5 * math.e]),
    )
    assert raw['loss_a'].grad.item() == pytest.approx(math.exp(-0.5))
    assert raw['loss_other'].grad.item() == 1.0


def test_learned_task_weights_in_a_training_step(attr_model_cfg, make_batch):
    model = _build(attr_model_cfg, learned_task_weights=True)
    head = model.panoptic_head
    tasks = ['cls', 'mask', 'dice'] + [f'attr_{n}' for n in SPEC.names]
    assert head.task_weights.tasks == tasks
    losses = _losses(model, make_batch())
    total = sum(v.sum() for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    grads = _grads(model, total)
    # At s = 0 every loss is its unweighted value; d total / d s_t is the
    # number of decoder outputs minus the sum of the task's losses.
    layers = len([k for k in losses if k.endswith('.loss_cls')]) + 1
    expected = [
        layers
        - sum(
            float(v)
            for k, v in losses.items()
            if k.split('.')[-1] == f'loss_{task}'
        )
        for task in tasks
    ]
    torch.testing.assert_close(
        grads['panoptic_head.task_weights.log_vars'], torch.tensor(expected)
    )
    assert grads['panoptic_head.attr_embed.weight'].abs().sum() > 0


def test_default_head_has_no_task_weights_nor_extra_parameters(
    attr_model_cfg,
):
    model = _build(attr_model_cfg)
    names = [n for n, _ in model.named_parameters()]
    assert model.panoptic_head.task_weights is None
    assert not [n for n in names if 'task_weights' in n or 'attr_pool' in n]


def _match(attr_weight):
    """Two queries, two ground truths: the class scores prefer query 0 ->
    gt 0, the colours the swap. Returns the 1-based gt of each query."""
    assigner = TASK_UTILS.build(
        dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=1.0),
                dict(type='AttrClassificationCost', weight=attr_weight),
            ],
        )
    )
    # class logits: query 0 says class 0 (gt 0), query 1 class 1 (gt 1)
    scores = torch.tensor([[3.0, 0.0, -9.0], [0.0, 3.0, -9.0]])
    # query 0 says color blue, query 1 red (size and pattern alike)
    attr_logits = torch.tensor(
        [
            [-9.0, -9.0, 9.0, -9.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            [9.0, -9.0, -9.0, -9.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        ]
    )
    preds = InstanceData(
        metainfo=dict(attribute_spec=SPEC),
        scores=scores,
        attr_logits=attr_logits,
    )
    gts = InstanceData(
        labels=torch.tensor([0, 1]),
        attr_labels=torch.tensor([[0, -1, -1, -1], [2, -1, -1, -1]]),
    )
    return assigner.assign(preds, gts, img_meta={}).gt_inds.tolist()


def test_attribute_match_cost_weights_below_one():
    """By hand: class probabilities p(q0=0)=p(q1=1)=0.953, p(q0=1)=
    p(q1=0)=0.047 (softmax of 3, 0, -9); the colour cost is -1 for the
    swap and ~0 for the straight match. Straight: -1.906; swap: -0.094 -
    2 w. Weight 1 swaps (-2.094 < -1.906), weight 0.5 keeps the straight
    match (-1.094 > -1.906)."""
    assert _match(1.0) == [2, 1]
    assert _match(0.5) == [1, 2]


def test_match_cost_weights_reach_the_head(attr_model_cfg):
    cfg = copy.deepcopy(attr_model_cfg)
    costs = cfg['train_cfg']['assigner']['match_costs']
    for cost in costs:
        if cost['type'].startswith('Attr'):
            cost['weight'] = 0.25
    head = MODELS.build(cfg).panoptic_head
    assert [c.weight for c in head._attr_costs] == [0.25, 0.25]
