"""Attribute losses: ignored unknown labels, weights, mmdet's interface."""

from unittest import mock

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric


def build(type_: str, **kwargs):
    return MODELS.build(dict(type=type_, **kwargs))


def test_cross_entropy_ignores_unknown_labels():
    pred = torch.randn(6, 4)
    target = torch.tensor([0, -1, 3, 2, -1, 1])
    known = target != -1
    loss = build('AttrCrossEntropyLoss')(pred, target)
    torch.testing.assert_close(
        loss, F.cross_entropy(pred[known], target[known])
    )


def test_cross_entropy_class_weight_is_a_weighted_mean():
    pred = torch.randn(5, 3)
    target = torch.tensor([0, 2, -1, 2, 1])
    class_weight = [1.0, 2.0, 0.1]
    loss = build('AttrCrossEntropyLoss', class_weight=class_weight)(
        pred, target
    )
    known = target != -1
    expected = F.cross_entropy(
        pred[known], target[known], weight=torch.tensor(class_weight)
    )
    torch.testing.assert_close(loss, expected)


def test_cross_entropy_sample_weight_loss_weight_and_reductions():
    pred = torch.randn(4, 3)
    target = torch.tensor([0, 1, 2, -1])
    weight = torch.tensor([1.0, 0.0, 1.0, 1.0])
    loss = build('AttrCrossEntropyLoss', loss_weight=3.0)
    per_sample = F.cross_entropy(pred[:3], target[:3], reduction='none')
    expected_mean = 3.0 * (per_sample[0] + per_sample[2]) / 2
    torch.testing.assert_close(loss(pred, target, weight), expected_mean)
    torch.testing.assert_close(
        loss(pred, target, weight, avg_factor=4.0),
        3.0 * (per_sample[0] + per_sample[2]) / 4,
    )
    none = loss(pred, target, reduction_override='none')
    assert none.shape == (4,) and none[3] == 0
    torch.testing.assert_close(
        loss(pred, target, reduction_override='sum'), 3.0 * per_sample.sum()
    )


def test_cross_entropy_rejects_out_of_range_targets():
    # A target equal to the number of logits is what a head without a
    # no-object slot produces; it must be a clear error, not an assert.
    with pytest.raises(ValueError, match='outside 0..2'):
        build('AttrCrossEntropyLoss')(torch.randn(2, 3), torch.tensor([0, 3]))


@pytest.mark.parametrize(
    'type_', ['AttrCrossEntropyLoss', 'AttrBinaryCrossEntropyLoss']
)
def test_all_unknown_gives_zero_in_graph(type_):
    if type_ == 'AttrCrossEntropyLoss':
        target = torch.full((3,), -1)
    else:
        target = torch.full((3, 4), -1)
    pred = torch.randn(3, 4, requires_grad=True)
    loss = build(type_)(pred, target)
    assert loss.item() == 0
    loss.backward()
    assert pred.grad is not None and pred.grad.abs().sum() == 0


def test_binary_cross_entropy_ignores_unknown_elements():
    pred = torch.randn(3, 2)
    target = torch.tensor([[1, 0], [-1, -1], [0, 1]])
    known = target != -1
    loss = build('AttrBinaryCrossEntropyLoss')(pred, target)
    expected = F.binary_cross_entropy_with_logits(
        pred[known], target[known].float()
    )
    torch.testing.assert_close(loss, expected)


def test_binary_cross_entropy_value_weights_and_sample_weights():
    pred = torch.randn(3, 2)
    target = torch.tensor([[1, 0], [0, 0], [0, 1]])
    loss = build('AttrBinaryCrossEntropyLoss', class_weight=[2.0, 1.0])(
        pred, target, torch.tensor([1.0, 0.5, 0.0])
    )
    elem = F.binary_cross_entropy_with_logits(
        pred, target.float(), reduction='none'
    )
    w = torch.tensor([[2.0, 1.0], [1.0, 0.5], [0.0, 0.0]])
    torch.testing.assert_close(loss, (elem * w).sum() / w.sum())


def test_binary_losses_reject_non_binary_targets():
    with pytest.raises(ValueError, match='0, 1 or -1'):
        build('AttrFocalLoss')(
            torch.randn(2, 2), torch.tensor([[0, 2], [1, 0]])
        )


def test_focal_loss_reduces_to_bce_and_down_weights_easy_values():
    pred = torch.tensor([[4.0, -4.0], [0.1, -0.2]])
    target = torch.tensor([[1, 0], [0, 1]])
    bce = build('AttrBinaryCrossEntropyLoss', reduction='none')(pred, target)
    plain = build('AttrFocalLoss', gamma=0.0, alpha=None, reduction='none')
    torch.testing.assert_close(plain(pred, target), bce)
    focal = build('AttrFocalLoss', reduction='none')(pred, target)
    # Confident correct values lose far more than uncertain wrong ones.
    ratio = focal / bce
    assert ratio[0].max() < 1e-3 < ratio[1].min()


def test_class_weight_length_is_checked():
    loss = build('AttrCrossEntropyLoss', class_weight=[1.0, 1.0])
    with pytest.raises(ValueError, match='2 entries for 3 logits'):
        loss(torch.randn(2, 3), torch.tensor([0, 1]))


@pytest.mark.parametrize(
    'type_, pred, target, class_weight, expected',
    [
        # known targets 0, 2, 1 with weights 1, 0.5, 2 and classes 1, 3, 2
        (
            'AttrCrossEntropyLoss',
            torch.randn(4, 3),
            torch.tensor([0, 2, -1, 1]),
            [1.0, 2.0, 3.0],
            1 * 1 + 0.5 * 3 + 2 * 2,
        ),
        # row 0: both values (w 1); row 1 unknown; row 2 w 0; row 3: value
        # 1 only (w 2); values weigh 2 and 1
        (
            'AttrFocalLoss',
            torch.randn(4, 2),
            torch.tensor([[1, 0], [-1, -1], [0, 1], [-1, 1]]),
            [2.0, 1.0],
            (2 + 1) * 1 + 1 * 2,
        ),
    ],
)
def test_weight_sum_is_the_divisor_of_the_mean(
    type_, pred, target, class_weight, expected
):
    weight = torch.tensor([1.0, 0.5, 0.0, 2.0])
    loss = build(type_, class_weight=class_weight)
    total = loss.weight_sum(pred, target, weight)
    assert total.item() == pytest.approx(expected)
    # the mean is the sum divided by it, and any avg_factor replaces it
    summed = loss(pred, target, weight, reduction_override='sum')
    torch.testing.assert_close(loss(pred, target, weight), summed / total)
    torch.testing.assert_close(
        loss(pred, target, weight, avg_factor=total * 2), summed / total / 2
    )


@pytest.mark.parametrize(
    'type_, pred, target',
    [
        ('AttrCrossEntropyLoss', torch.randn(2, 3), torch.tensor([0, 1])),
        ('AttrFocalLoss', torch.randn(2, 2), torch.tensor([[0, 1], [1, 0]])),
    ],
)
def test_check_targets_false_reads_nothing_on_the_host(type_, pred, target):
    """Valid targets: without the check no value is read on the host."""
    loss = build(type_, check_targets=False)
    with mock.patch.object(
        torch.Tensor, '__bool__', side_effect=AssertionError('host read')
    ):
        loss(pred, target)
    with pytest.raises(AssertionError, match='host read'):
        with mock.patch.object(
            torch.Tensor, '__bool__', side_effect=AssertionError('host read')
        ):
            build(type_)(pred, target)
