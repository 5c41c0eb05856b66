"""The IF-Net, its checkpoints, affine generators and boundary maps."""

import math

import pytest
import torch
import torch.nn.functional as F

from mmmultilabel.inverseform import InverseFormRegressor
from mmmultilabel.inverseform.loss import (
    label_boundaries,
    probability_boundaries,
    to_tiles,
)
from mmmultilabel.inverseform.net import (
    InverseFormNet,
    affine_from_generator,
    random_generators,
)

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric


def random_tiles(num=3, size=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(num, 1, size, size, generator=gen)


def test_swapping_inputs_negates_the_output_exactly(random_ifnet):
    net, _ = InverseFormNet.from_checkpoint(random_ifnet)
    pred, target = random_tiles(seed=0), random_tiles(seed=1)
    forward = net(pred, target)
    assert forward.shape == (3, 2, 3) and forward.abs().sum() > 0
    torch.testing.assert_close(net(target, pred), -forward)


def test_identical_tiles_are_at_distance_zero(random_ifnet):
    net, _ = InverseFormNet.from_checkpoint(random_ifnet)
    tiles = random_tiles()
    # zero up to float rounding (both orders share one batched forward)
    assert net.distance(tiles, tiles).max() < 1e-6


def test_checkpoint_round_trip_on_cpu(random_ifnet, tmp_path):
    net, meta = InverseFormNet.from_checkpoint(random_ifnet, 'cpu')
    assert meta == dict(note='random weights') and not net.training
    path = str(tmp_path / 'copy.pth')
    net.save(path, dict(iters=3))
    copy, meta = InverseFormNet.from_checkpoint(path, map_location='cpu')
    assert meta == dict(iters=3) and copy.config == net.config
    pred, target = random_tiles(seed=2), random_tiles(seed=3)
    torch.testing.assert_close(copy(pred, target), net(pred, target))


def test_checkpoint_errors_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match='tools/train.py configs'):
        InverseFormNet.from_checkpoint(str(tmp_path / 'missing.pth'))
    other = tmp_path / 'other.pth'
    torch.save(dict(state_dict={}), str(other))
    with pytest.raises(ValueError, match='not an IF-Net checkpoint'):
        InverseFormNet.from_checkpoint(str(other))


def test_runner_checkpoints_load_with_the_architecture_of_their_weights(
    tmp_path,
):
    # what the Runner saves for InverseFormRegressor: weights under net.
    model = InverseFormRegressor(net=dict(tile_size=48, channels=4, hidden=8))
    torch.nn.init.normal_(model.net.fc[-1].weight, std=0.1)
    path = str(tmp_path / 'iter_5.pth')
    torch.save(dict(meta=dict(iter=5), state_dict=model.state_dict()), path)
    net, meta = InverseFormNet.from_checkpoint(path)
    assert net.config == dict(tile_size=48, channels=4, hidden=8)
    assert meta == dict(iter=5) and not net.training
    pred, target = random_tiles(size=48, seed=4), random_tiles(size=48)
    torch.testing.assert_close(net(pred, target), model.net(pred, target))
    other = str(tmp_path / 'other_model.pth')
    torch.save(dict(state_dict={'backbone.w': torch.zeros(1)}), other)
    with pytest.raises(ValueError, match='Runner checkpoint of'):
        InverseFormNet.from_checkpoint(other)


def test_tile_size_errors():
    with pytest.raises(ValueError, match='multiple of 16'):
        InverseFormNet(tile_size=40)
    net = InverseFormNet(tile_size=32)
    with pytest.raises(ValueError, match='built for 32x32 tiles'):
        net(random_tiles(size=48), random_tiles(size=48))
    with pytest.raises(ValueError, match='must match'):
        net(random_tiles(num=2), random_tiles(num=3))


def test_generators_exponentiate_to_affine_matrices():
    zero = torch.zeros(1, 2, 3)
    torch.testing.assert_close(affine_from_generator(zero)[0], torch.eye(2, 3))
    shift = torch.tensor([[[0.0, 0.0, 0.2], [0.0, 0.0, -0.1]]])
    torch.testing.assert_close(
        affine_from_generator(shift)[0],
        torch.tensor([[1.0, 0.0, 0.2], [0.0, 1.0, -0.1]]),
    )
    scale = torch.zeros(1, 2, 3)
    scale[0, 0, 0] = scale[0, 1, 1] = math.log(1.5)
    torch.testing.assert_close(
        affine_from_generator(scale)[0, :, :2], 1.5 * torch.eye(2)
    )
    # log(A^-1) = -log(A): the property the antisymmetric net relies on
    gens = random_generators(8, generator=torch.Generator().manual_seed(0))
    fwd, bwd = affine_from_generator(gens), affine_from_generator(-gens)
    bottom = torch.tensor([0.0, 0.0, 1.0]).expand(8, 1, 3)
    product = torch.cat([fwd, bottom], 1) @ torch.cat([bwd, bottom], 1)
    torch.testing.assert_close(product, torch.eye(3).expand(8, 3, 3))


def test_boundaries_of_a_square():
    labels = torch.zeros(1, 16, 16, dtype=torch.long)
    labels[0, 4:12, 4:12] = 1
    edges = label_boundaries(labels, num_classes=2)
    assert edges.shape == (1, 1, 16, 16)
    # two pixels thick around the step, nothing inside, nothing at the
    # image border
    assert edges[0, 0, 8, 3] == 1 and edges[0, 0, 8, 4] == 1
    assert edges[0, 0, 8, 8] == 0 and edges[0, 0, 0].sum() == 0
    probs = F.one_hot(labels, 2).permute(0, 3, 1, 2).float()
    soft = probability_boundaries(probs)
    assert torch.equal(soft > 0.5, edges > 0)
    assert soft.min() >= 0 and soft.max() <= 1


def test_ignored_pixels_belong_to_no_class():
    labels = torch.zeros(1, 16, 16, dtype=torch.long)
    labels[0, :, 8:] = 255
    edges = label_boundaries(labels, num_classes=2, ignore_index=255)
    assert edges[0, 0, :, 7:9].all() and edges[0, 0, :, 10:].sum() == 0


def test_tiles_are_row_major():
    maps = torch.arange(16.0).view(1, 1, 4, 4)
    tiles = to_tiles(maps, (2, 2))
    assert tiles.shape == (4, 1, 2, 2)
    assert tiles[1, 0].tolist() == [[2.0, 3.0], [6.0, 7.0]]
    assert tiles[2, 0].tolist() == [[8.0, 9.0], [12.0, 13.0]]
