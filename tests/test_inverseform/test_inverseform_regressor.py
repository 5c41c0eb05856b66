"""InverseFormRegressor (loss, predict, tensor) and InverseFormMetric."""

import math

import pytest
import torch
from inverseform_utils import IFNET_CONFIG
from mmengine.config import Config
from mmengine.registry import PARAM_SCHEDULERS

from mmmultilabel.inverseform import InverseFormMetric, InverseFormRegressor

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

WARPS = ['random', 'shift_0px', 'shift_4px']


def batch(num=2, warps=3, size=32, seed=0):
    """Random tiles; the target of sample 1, warp 2 has no boundary."""
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.rand(num, warps, 2, size, size, generator=gen)
    inputs[1, 2, 1] = 0
    generators = torch.rand(num, warps, 2, 3, generator=gen) - 0.5
    attack = torch.tensor([False, False, True]).expand(num, warps)
    return inputs, dict(generators=generators, attack=attack)


def untrained():
    # the last layer starts at zero: every pair regresses log(A) = 0
    return InverseFormRegressor(net=dict(tile_size=32, channels=4, hidden=8))


def test_loss_is_the_mse_of_pairs_with_boundary():
    model = untrained()
    inputs, samples = batch()
    loss = model(inputs, samples, mode='loss')['loss_mse']
    # regressed 0: the error is the true generator; one pair left out
    truth = samples['generators'].flatten(0, 1)
    keep = torch.ones(6, dtype=torch.bool)
    keep[5] = False
    expected = truth[keep].square().mean()
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert model.net.fc[-1].weight.grad.abs().sum() > 0


def test_predict_and_tensor_modes():
    model = untrained()
    torch.nn.init.normal_(model.net.fc[-1].weight, std=0.1)
    inputs, samples = batch()
    out = model(inputs, mode='tensor')
    assert out.shape == (2, 3, 2, 3)
    with torch.no_grad():  # as in the val loop: the attack enables grad
        preds = model(inputs, samples, mode='predict')
    assert len(preds) == 2
    first = preds[0]
    torch.testing.assert_close(first['pred_generators'], out[0].detach())
    torch.testing.assert_close(
        first['distances'], out[0].detach().flatten(1).norm(dim=1)
    )
    assert first['attacked'][:2].isnan().all()
    assert not first['attacked'][2].isnan()
    assert preds[1]['has_gt'].tolist() == [True, True, False]
    assert model.net.fc[-1].weight.grad is None  # the attack left no grads
    with pytest.raises(RuntimeError, match='mode='):
        model(inputs, samples, mode='train')


def test_identical_tiles_score_zero_and_the_attack_cannot_go_below():
    model = untrained()
    torch.nn.init.normal_(model.net.fc[-1].weight, std=0.1)
    inputs, samples = batch()
    inputs[:, :, 0] = inputs[:, :, 1]  # pred == target
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
    # antisymmetric net: f(x, x) = 0 (float rounding aside)
    assert max(float(p['distances'].max()) for p in preds) < 1e-6
    assert all(float(p['attacked'][2]) >= 0 for p in preds)


def records():
    """Two samples with hand-picked numbers (K = 3 warps of WARPS)."""
    shift = 2 * 4 / 32
    gt = torch.zeros(2, 3, 2, 3)
    gt[:, 0, 0, 2] = 0.3  # random warps: a shift of 0.3
    gt[:, 2, 0, 2] = shift
    pred = gt.clone()
    pred[0, 0] += 0.1  # every entry 0.1 off
    pred[1, 0] -= 0.1
    return [
        dict(
            pred_generators=pred[i],
            gt_generators=gt[i],
            distances=torch.tensor([0.5, 0.01 * (i + 1), [0.1, 0.9][i]]),
            attacked=torch.tensor([math.nan, math.nan, 0.02]),
            has_gt=torch.tensor([True, True, i == 0]),
        )
        for i in range(2)
    ]


def test_metric_on_hand_picked_records():
    metric = InverseFormMetric()
    metric.dataset_meta = dict(warps=WARPS)
    metric.process({}, records())
    result = metric.evaluate(2)
    expected = {
        'ifnet/rmse': 0.1,
        'ifnet/true_mean_norm': 0.3,
        'ifnet/shift_0px': 0.015,
        'ifnet/shift_0px_true': 0.0,
        # sample 1 has no target boundary for this warp: left out
        'ifnet/shift_4px': 0.1,
        'ifnet/shift_4px_true': 0.25,
        'ifnet/shift_4px_attacked': 0.02,
    }
    assert result.keys() == expected.keys()
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=1e-6), key


def test_metric_refuses_records_of_other_warps():
    metric = InverseFormMetric()
    metric.dataset_meta = dict(warps=WARPS[:2])
    metric.process({}, records())
    with pytest.raises(ValueError, match='names 2'):
        metric.evaluate(2)


def test_config_schedule_is_torch_one_cycle():
    """The config's cosine phases give the lr and Adam beta1 of torch's
    OneCycleLR(max_lr, total_steps, pct_start=0.05) at every step."""
    cfg = Config.fromfile(IFNET_CONFIG)
    lr, iters = cfg.lr, cfg.max_iters

    def adam(lr):
        param = torch.nn.Parameter(torch.zeros(1))
        return torch.optim.Adam(
            [param], lr=lr, betas=cfg.optim_wrapper.optimizer.betas
        )

    reference = adam(lr)
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(
        reference, max_lr=lr, total_steps=iters, pct_start=0.05
    )
    ours = adam(cfg.optim_wrapper.optimizer.lr)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(s, optimizer=ours))
        for s in cfg.param_scheduler
    ]
    for _ in range(iters):
        want, got = reference.param_groups[0], ours.param_groups[0]
        assert got['lr'] == pytest.approx(want['lr'], rel=1e-9)
        assert got['betas'][0] == pytest.approx(want['betas'][0], abs=1e-9)
        reference.step()
        ours.step()
        one_cycle.step()
        for scheduler in schedulers:
            scheduler.step()
