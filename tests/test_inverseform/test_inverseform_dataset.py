"""InverseFormPairDataset and the pairs it makes."""

import json
import math
import random

import pytest
import torch
from inverseform_utils import coco_file

from mmmultilabel.inverseform import InverseFormPairDataset
from mmmultilabel.inverseform.loss import label_boundaries
from mmmultilabel.inverseform.pairs import make_pairs

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

PROBES = dict(shifts_px=(0, 4), scales=(1.1,), attack=('shift_4px',))


def png_dataset(label_dir, **kwargs):
    return InverseFormPairDataset(
        data_prefix=dict(seg_map_path=str(label_dir)), tile_size=32, **kwargs
    )


class MiddleRng(random.Random):
    """No blur, windows in the middle, mixing 0.15."""

    def random(self):
        return 0.9

    def uniform(self, a, b):
        return (a + b) / 2


def test_pred_tile_is_the_target_seen_through_the_warp():
    # a 24x24 square in the middle of a 64x64 map, one 32x32 window
    label = torch.zeros(64, 64, dtype=torch.long)
    label[20:44, 20:44] = 1
    shift = torch.zeros(2, 2, 3)
    shift[1, 0, 2] = 2 * 3 / 32  # 3 tile pixels to the right
    pred, target = make_pairs(label, 2, shift, 32, 1.0, MiddleRng())
    assert pred.shape == target.shape == (2, 1, 32, 32)
    assert pred.min() >= 0 and pred.max() <= 1
    assert set(target.unique().tolist()) == {0.0, 1.0}
    # the window covers map pixels 16..47: the target is the boundary of
    # the square at 4..27, computed here on its own
    window = torch.zeros(1, 32, 32, dtype=torch.long)
    window[0, 4:28, 4:28] = 1
    torch.testing.assert_close(target[0], label_boundaries(window, 2)[0])
    # pred(p) = target(A p): no warp, the same edges; a shift of +3 px in
    # x, the edges 3 px to the left. Mixing 0.15 scales the edge strength
    # by 0.85, the target threshold is 0.5.
    edges = pred > 0.5 * 0.85
    assert torch.equal(edges[0], target[0] > 0)
    assert torch.equal(edges[1], target[0].roll(-3, dims=-1) > 0)


def test_training_items_are_random_warps_in_their_ranges(label_dir):
    ranges = dict(max_translation=0.2, max_rotation=0, max_shear=0)
    data = png_dataset(label_dir, split='train', warp_range=ranges)
    assert data.metainfo['warps'] == ['random'] and data.num_classes == 3
    torch.manual_seed(0)
    gens = []
    for i in range(8):
        item = data[i]
        assert item['inputs'].shape == (1, 2, 32, 32)
        gens.append(item['data_samples']['generators'])
    gens = torch.cat(gens)
    assert gens[:, :, 2].abs().max() <= 0.2
    assert gens[:, 0, 1].abs().max() == 0  # no rotation, no shear
    assert len({tuple(g.flatten().tolist()) for g in gens}) == 8


def test_evaluation_items_are_fixed_and_carry_the_probes(label_dir):
    data = png_dataset(
        label_dir, split='val', test_mode=True, num_samples=5, probes=PROBES
    )
    assert len(data) == 5
    names = ['random', 'shift_0px', 'shift_4px', 'scale_1.1']
    assert data.metainfo['warps'] == names
    item = data[3]
    assert item['inputs'].shape == (4, 2, 32, 32)
    assert torch.equal(item['inputs'], data[3]['inputs'])
    gens = item['data_samples']['generators']
    norms = gens.flatten(1).norm(dim=1)
    expected = [0.0, 2 * 4 / 32, math.sqrt(2) * math.log(1.1)]
    torch.testing.assert_close(norms[1:], torch.tensor(expected))
    assert item['data_samples']['attack'].tolist() == [0, 0, 1, 0]
    # one window: every warp has the same target tile
    targets = item['inputs'][:, 1]
    assert all(torch.equal(t, targets[0]) for t in targets)


def test_hold_out_splits_the_maps(label_dir):
    train = png_dataset(label_dir, split='train')
    val = png_dataset(label_dir, split='val')
    every = png_dataset(label_dir)
    paths, held, kept = (
        [d.get_data_info(i)['seg_map_path'] for i in range(len(d))]
        for d in (every, val, train)
    )
    assert len(held) == 1 and sorted(held + kept) == paths
    # the maps the old training tool held out: shuffle with seed 0
    order = list(range(16))
    random.Random(0).shuffle(order)
    assert held == [paths[order[0]]]


def test_coco_maps_through_load_attr_coco(tmp_path):
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(coco_file()))
    data = InverseFormPairDataset(ann_file=str(ann), tile_size=16)
    assert data.num_classes == 3
    semantic, instances = data.label_maps(data.get_data_info(0))
    # category 7 -> label 2, category 3 -> label 1, crowd left out
    assert semantic[5, 5] == 2 and semantic[15, 15] == 1
    assert instances[5, 5] == 1 and instances[15, 15] == 2
    assert semantic[1, 21] == 0
    assert data[0]['inputs'].shape == (1, 2, 16, 16)


def test_bad_input_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='missing.json'):
        InverseFormPairDataset(ann_file=str(tmp_path / 'missing.json'))
    with pytest.raises(FileNotFoundError, match='not a folder of label'):
        png_dataset(tmp_path / 'missing')
    with pytest.raises(ValueError, match='no label .png files'):
        png_dataset(tmp_path)
    with pytest.raises(ValueError, match='split must be one of'):
        png_dataset(tmp_path, split='test')
    with pytest.raises(ValueError, match='zoom_range'):
        png_dataset(tmp_path, zoom_range=(2, 1))
    with pytest.raises(ValueError, match='not probes'):
        png_dataset(tmp_path, probes=dict(attack=('shift_4px',)))
    with pytest.raises(ValueError, match='unknown keys'):
        png_dataset(tmp_path, probes=dict(shift=(1,)))
