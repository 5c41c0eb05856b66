"""InverseFormLoss: invariants, gradients, interface and errors."""

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from inverseform_utils import TILE, draw_label_map
from mmdet.registry import MODELS as MMDET_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS

from mmmultilabel.inverseform import InverseFormLoss
from mmmultilabel.inverseform.loss import label_boundaries

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

NUM_CLASSES = 3


def labels_of(*maps: np.ndarray) -> torch.Tensor:
    """(N, H, W) long labels of uint8 label maps."""
    return torch.stack([torch.from_numpy(m).long() for m in maps])


def confident_logits(labels: torch.Tensor, num_classes=NUM_CLASSES):
    """Logits (N, C, H, W) whose softmax is (nearly) one-hot ``labels``."""
    return 20.0 * F.one_hot(labels, num_classes).permute(0, 3, 1, 2).float()


def shifted(label: np.ndarray, dx: int, dy: int = 0) -> np.ndarray:
    return np.roll(label, (dy, dx), axis=(0, 1))


def scaled(label: np.ndarray, factor: float) -> np.ndarray:
    size = label.shape[0]
    matrix = cv2.getRotationMatrix2D((size / 2, size / 2), 0, factor)
    return cv2.warpAffine(label, matrix, (size, size), flags=cv2.INTER_NEAREST)


@pytest.fixture(scope='module')
def trained_loss(trained_ifnet):
    # 64x64 label maps as 2x2 tiles of 32x32, the scale of the training
    return InverseFormLoss(trained_ifnet, grid=(2, 2))


def test_zero_for_identical_boundaries(trained_loss, trained_ifnet):
    labels = labels_of(draw_label_map())
    boundary = label_boundaries(labels, NUM_CLASSES)
    # a boundary head that predicts the ground-truth boundary exactly
    loss = InverseFormLoss(trained_ifnet, pred_type='boundary', grid=(2, 2))
    assert loss(40.0 * boundary - 20.0, labels) < 1e-5
    # the boundary of confident class probabilities is nearly that map
    assert trained_loss(confident_logits(labels), labels) < 0.06


def test_grows_with_shift(trained_loss):
    label = draw_label_map()
    target = labels_of(label)
    losses = [
        float(trained_loss(confident_logits(labels_of(shifted(label, dx))), target))  # noqa: E501
        for dx in (0, 1, 2, 3)
    ]  # fmt: skip
    assert losses == sorted(losses) and losses[-1] > 2 * losses[0], losses


def test_grows_with_scale(trained_loss):
    label = draw_label_map(shapes=((1, 24, 24, 10), (2, 40, 40, 9)))
    target = labels_of(label)
    losses = [
        float(trained_loss(confident_logits(labels_of(scaled(label, s))), target))  # noqa: E501
        for s in (1.0, 1.1, 1.25)
    ]  # fmt: skip
    assert losses == sorted(losses) and losses[-1] > 2 * losses[0], losses


def test_gradient_reaches_the_prediction_not_the_ifnet(random_ifnet):
    loss = InverseFormLoss(random_ifnet, grid=(2, 2))
    labels = labels_of(draw_label_map(), draw_label_map(shapes=()))
    pred = torch.randn(2, NUM_CLASSES, 64, 64, requires_grad=True)
    value = loss(pred, labels)
    value.backward()
    assert torch.isfinite(pred.grad).all() and pred.grad[0].abs().sum() > 0
    net = loss.inverse_net
    assert all(
        p.grad is None and not p.requires_grad for p in net.parameters()
    )
    # frozen and outside the module tree: no parameters, no checkpoint
    # entries, always in eval mode
    assert list(loss.parameters()) == [] and loss.state_dict() == {}
    loss.train()
    assert not net.training


def test_shape_mismatch_raises(random_ifnet):
    loss = InverseFormLoss(random_ifnet)
    labels = torch.zeros(2, 32, 32, dtype=torch.long)
    with pytest.raises(ValueError, match='batch size and H, W must match'):
        loss(torch.randn(2, NUM_CLASSES, 30, 32), labels)
    with pytest.raises(ValueError, match='batch size and H, W must match'):
        loss(torch.randn(3, NUM_CLASSES, 32, 32), labels)
    with pytest.raises(ValueError, match=r'\(N, H, W\)'):
        loss(torch.randn(2, NUM_CLASSES, 32, 32), labels[:, None])
    with pytest.raises(ValueError, match='one weight per sample'):
        loss(torch.randn(2, NUM_CLASSES, 32, 32), labels, torch.ones(2, 32))


def test_label_and_type_errors(random_ifnet):
    loss = InverseFormLoss(random_ifnet)
    labels = torch.zeros(1, 32, 32, dtype=torch.long)
    labels[0, 0, 0] = 5
    with pytest.raises(ValueError, match='label 5 but pred has 3 classes'):
        loss(torch.randn(1, NUM_CLASSES, 32, 32), labels)
    with pytest.raises(ValueError, match='binary mask'):
        loss(torch.randn(1, 32, 32), labels)
    with pytest.raises(ValueError, match='fractional'):
        loss(torch.randn(1, 32, 32), torch.full((1, 32, 32), 0.5))
    boundary = InverseFormLoss(random_ifnet, pred_type='boundary')
    with pytest.raises(ValueError, match="pred_type='boundary'"):
        boundary(torch.randn(1, NUM_CLASSES, 32, 32), labels)
    with pytest.raises(ValueError, match='pred_type must be one of'):
        InverseFormLoss(random_ifnet, pred_type='edges')
    with pytest.raises(ValueError, match='grid must be two positive'):
        InverseFormLoss(random_ifnet, grid=(0, 2))


def test_reductions_weights_and_batching(random_ifnet):
    loss = InverseFormLoss(random_ifnet, grid=(2, 2), loss_weight=2.0)
    maps = [
        draw_label_map(),
        draw_label_map(shapes=((2, 30, 30, 12),)),
        draw_label_map(shapes=()),  # no boundary at all
    ]
    labels = labels_of(*maps)
    pred = torch.randn(3, NUM_CLASSES, 64, 64)
    per_sample = loss(pred, labels, reduction_override='none')
    assert per_sample.shape == (3,) and per_sample[2] == 0
    # batched == one by one
    for i in range(3):
        torch.testing.assert_close(
            per_sample[i : i + 1],
            loss(
                pred[i : i + 1], labels[i : i + 1], reduction_override='none'
            ),
        )
    torch.testing.assert_close(loss(pred, labels), per_sample.mean())
    torch.testing.assert_close(
        loss(pred, labels, reduction_override='sum'), per_sample.sum()
    )
    weight = torch.tensor([1.0, 0.0, 1.0])
    torch.testing.assert_close(
        loss(pred, labels, weight, avg_factor=4.0), per_sample[0] / 4
    )


def test_masks_and_ignored_pixels(random_ifnet):
    loss = InverseFormLoss(random_ifnet)
    masks = torch.zeros(2, 32, 32, dtype=torch.bool)
    masks[:, 8:20, 10:24] = True
    logits = torch.randn(2, 1, 32, 32, requires_grad=True)
    value = loss(logits, masks, avg_factor=2.0)
    value.backward()
    assert value > 0 and torch.isfinite(logits.grad).all()
    labels = torch.zeros(1, 32, 32, dtype=torch.long)
    labels[0, 8:20, 8:20] = 2
    labels[0, :, 28:] = 255
    assert torch.isfinite(loss(torch.randn(1, NUM_CLASSES, 32, 32), labels))


def test_resizes_to_the_tile_grid(random_ifnet):
    loss = InverseFormLoss(random_ifnet, grid=(1, 2))
    labels = labels_of(draw_label_map(shapes=((1, 30, 30, 12),)))
    labels = torch.cat([labels, labels], dim=2)  # (1, 64, 128)
    value = loss(confident_logits(labels), labels)
    assert value.shape == () and torch.isfinite(value)
    assert loss.inverse_net.tile_size == TILE


def test_registered_in_mmseg_and_mmdet(random_ifnet):
    cfg = dict(type='InverseFormLoss', checkpoint=random_ifnet)
    for registry in (MMSEG_MODELS, MMDET_MODELS):
        built = registry.build(cfg)
        assert type(built) is InverseFormLoss
        assert built.loss_name == 'loss_inverseform'


def _shifted_loss(loss, one_hot, target, offset):
    """Loss of ``one_hot`` moved by ``offset`` (1, 2), tile-normalised x, y
    (units of half the 64-pixel map), against ``target``."""
    theta = torch.cat([torch.eye(2)[None], offset[..., None]], dim=2)
    grid = F.affine_grid(theta, (1, NUM_CLASSES, 64, 64), False)
    moved = F.grid_sample(one_hot, grid, padding_mode='border')
    return loss(20.0 * moved, target)


def test_descending_the_loss_over_a_shift_recovers_it(trained_loss):
    """The prediction may only move; the ground truth is the prediction
    shifted by 3 px right and 2 px down.

    What the loss guarantees, whatever the kernels the IF-Net was trained
    and is run with: its minimum over a grid of half-pixel shifts lies at
    the true shift; descending it moves the prediction towards the truth
    and reaches a loss below that of every other grid point, within one
    grid step of the truth. Not asserted: where the last Adam step lands.
    The loss is not smooth (bilinear moves of a one-hot map have kinks at
    whole pixels), so a constant step of 0.64 px oscillates around the
    minimum or rests on a plateau next to it (1.1 px off with oneDNN's AVX2
    kernels, 0.3 px with AVX512).
    """
    label = draw_label_map(shapes=((1, 22, 24, 10), (2, 42, 38, 9)))
    target = labels_of(label)
    one_hot = F.one_hot(labels_of(shifted(label, 3, 2)), NUM_CLASSES)
    one_hot = one_hot.permute(0, 3, 1, 2).float()
    truth = torch.tensor([3.0, 2.0])

    # the loss over shifts of -1..6 px (x) and -1..5 px (y), every 0.5 px
    step = 0.5
    shifts = torch.cartesian_prod(
        torch.arange(-1.0, 6.01, step), torch.arange(-1.0, 5.01, step)
    )
    with torch.no_grad():
        grid_losses = torch.stack(
            [
                _shifted_loss(trained_loss, one_hot, target, s[None] / 32)
                for s in shifts
            ]
        )
    at_truth = (shifts == truth).all(dim=1)
    assert torch.equal(shifts[grid_losses.argmin()], truth), (
        shifts[grid_losses.argmin()],
        grid_losses.min(),
        grid_losses[at_truth],
    )
    second_best = grid_losses[~at_truth].min()

    offset = torch.zeros(1, 2, requires_grad=True)
    optimizer = torch.optim.Adam([offset], lr=0.02)  # 0.64 px per step
    losses, positions = [], []
    for _ in range(60):
        loss = _shifted_loss(trained_loss, one_hot, target, offset)
        losses.append(loss.item())
        positions.append(offset.detach()[0] * 32)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # the first step goes towards the truth in x and in y
    assert (positions[1] > 0).all(), positions[1]
    best = min(range(len(losses)), key=losses.__getitem__)
    assert losses[best] < second_best < losses[0], (
        losses[best],
        second_best,
        losses[0],
    )
    torch.testing.assert_close(positions[best], truth, atol=step, rtol=0)
