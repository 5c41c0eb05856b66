"""Held-out families of the shapes generator (``--family``)."""

import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from attr_data_utils import REPO
from test_make_shapes import MAKE_SHAPES, tree

FAMILIES = ['geometry', 'texture', 'clutter', 'partial', 'longtail']


def _load_validator():
    spec = importlib.util.spec_from_file_location(
        'validate_dataset', osp.join(REPO, 'tools/misc/validate_dataset.py')
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALIDATOR = _load_validator()


def _make(out, family, seed=0, num_train=4):
    args = [str(out), '--family', family, '--seed', str(seed)]
    args += ['--num-train', str(num_train), '--num-val', '2', '--no-progress']
    assert MAKE_SHAPES.main(args) == 0
    return out


def _coco(out, split='train'):
    with open(osp.join(out, 'annotations', f'{split}.json')) as f:
        return json.load(f)


@pytest.mark.parametrize('family', FAMILIES)
def test_family_is_valid_and_seeded(tmp_path, family):
    out = _make(tmp_path / 'a', family)
    for split in ('train', 'val'):
        ann = osp.join(out, 'annotations', f'{split}.json')
        img_dir = osp.join(out, split)
        argv = [ann, '--img-dir', img_dir, '--no-progress']
        assert VALIDATOR.main(argv) == 0
    coco = _coco(out)
    assert coco['annotations']
    groups = MAKE_SHAPES.FAMILIES[family].attribute_groups
    assert (
        coco['attribute_groups']
        == MAKE_SHAPES.family_spec(family)['attribute_groups']
    )
    assert [g['name'] for g in coco['attribute_groups']] == [
        g['name'] for g in groups
    ]
    # the same seed gives the same bytes, another seed other images
    again = _make(tmp_path / 'b', family)
    assert tree(again) == tree(out)
    other = _make(tmp_path / 'c', family, seed=1)
    assert tree(other)['train/000000.png'] != tree(out)['train/000000.png']


def test_families_differ_from_each_other_and_from_shapes(tmp_path):
    first = {
        family: tree(_make(tmp_path / family, family, num_train=1))[
            'train/000000.png'
        ]
        for family in FAMILIES
    }
    assert len(set(first.values())) == len(FAMILIES)


def test_flat_and_rotate_belong_to_the_shapes_family(tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        MAKE_SHAPES.main([str(tmp_path), '--family', 'texture', '--rotate'])
    assert err.value.code == 2
    assert '--family texture' in capsys.readouterr().err


def test_partial_groups_only_on_their_categories(tmp_path):
    coco = _coco(_make(tmp_path / 'p', 'partial', num_train=12))
    names = {c['id']: c['name'] for c in coco['categories']}
    applies = {
        g['name']: set(g.get('categories', names.values()))
        for g in coco['attribute_groups']
    }
    seen = {name: set() for name in applies}
    for ann in coco['annotations']:
        category = names[ann['category_id']]
        for group in ann['attributes']:
            assert category in applies[group], (group, category)
            seen[group].add(category)
        # every applicable group is labelled
        assert set(ann['attributes']) == {
            g for g, cats in applies.items() if category in cats
        }
    assert all(seen.values()), seen
    assert len(coco['categories']) == 6


def _instance_masks(out, split='train'):
    """(annotation, visible mask (H, W) bool) of every instance."""
    coco = _coco(out, split)
    out_pairs = []
    for ann in coco['annotations']:
        img = next(i for i in coco['images'] if i['id'] == ann['image_id'])
        rle = mask_utils.merge(
            mask_utils.frPyObjects(
                ann['segmentation'], img['height'], img['width']
            )
        )
        out_pairs.append((ann, mask_utils.decode(rle).astype(bool)))
    return out_pairs


def test_geometry_labels_match_the_pixels(tmp_path):
    """Level wide shapes are wider than high, level tall ones higher than
    wide; visible areas stay below the nominal range's top; turned circles
    of even aspect have no orientation."""
    out = _make(tmp_path / 'g', 'geometry', num_train=16)
    checked = 0
    for ann, mask in _instance_masks(out):
        attrs = ann['attributes']
        low, high = MAKE_SHAPES.SIZES[attrs['size']]
        assert 0.55 * low * 0.9 <= ann['area'] <= high * 1.06, ann['id']
        if attrs.get('orientation') == 'level' and ann['area'] >= 0.95 * low:
            rows, cols = np.nonzero(mask)
            w, h = np.ptp(cols) + 1, np.ptp(rows) + 1
            if attrs['aspect'] == 'wide':
                assert w > 1.5 * h, ann['id']
                checked += 1
            elif attrs['aspect'] == 'tall':
                assert h > 1.5 * w, ann['id']
                checked += 1
    assert checked >= 3


def test_texture_stripes_are_the_labelled_frequency(tmp_path):
    """Across horizontal (vertical) stripes, the mean brightness of a shape's
    rows (columns) repeats with the labelled period: its strongest frequency
    is 1 / period."""
    out = _make(tmp_path / 't', 'texture', num_train=10)
    coco = _coco(out)
    images = {i['id']: i for i in coco['images']}
    checked = 0
    for ann, mask in _instance_masks(out):
        attrs = ann['attributes']
        if attrs['stripes'] == 'none' or attrs['direction'] == 'diagonal':
            continue
        img = images[ann['image_id']]
        gray = cv2.imread(osp.join(out, 'train', img['file_name']), 0)
        inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8))
        if attrs['direction'] == 'vertical':
            gray, inner = gray.T, inner.T
        # mean brightness of every line across the stripes
        profile = np.array(
            [g[m > 0].mean() for g, m in zip(gray, inner) if m.sum() > 3]
        )
        if len(profile) < 16:
            continue
        spectrum = np.abs(np.fft.rfft(profile - profile.mean()))
        freq = (np.argmax(spectrum[1:]) + 1) / len(profile)
        period = MAKE_SHAPES.STRIPE_PERIODS[attrs['stripes']]
        assert abs(freq - 1 / period) < 0.04, (ann['id'], freq, period)
        checked += 1
    assert checked >= 3


def test_clutter_has_crowded_images(tmp_path):
    coco = _coco(_make(tmp_path / 'c', 'clutter', num_train=10))
    counts = np.bincount([a['image_id'] for a in coco['annotations']])
    assert counts.max() > 4


def test_longtail_values_are_long_tailed():
    """The sampler's own frequencies over many instances, not images."""
    rng = np.random.default_rng(0)
    colors, patterns = [], []
    for _ in range(4000):
        inst = MAKE_SHAPES.longtail_instance(rng, 128)
        colors.append(inst['labels']['color'])
        patterns += inst['labels']['pattern']
    palette = list(MAKE_SHAPES.PALETTE)
    color_counts = [colors.count(c) for c in palette]
    # head to tail: 1 / rank^1.6 puts 8^1.6 = 28 times more in the first
    assert color_counts[0] > 15 * color_counts[-1] > 0
    pattern_counts = [patterns.count(p) for p in MAKE_SHAPES.LONGTAIL_PATTERNS]
    assert pattern_counts == sorted(pattern_counts, reverse=True)
    assert pattern_counts[0] > 30 * pattern_counts[-1] > 0


def test_a_shape_that_cannot_fit_is_left_out():
    rng = np.random.default_rng(0)
    inst = dict(category='triangle', area=3800.0, aspect=2.2, labels={})
    assert MAKE_SHAPES.family_shape(rng, inst, 128) is None
    inst['aspect'] = 1.0
    shape = MAKE_SHAPES.family_shape(rng, inst, 128)
    points = np.array(shape['points'])
    assert shape['label'] == 'triangle'
    assert points.min() >= 2 and points.max() <= 126


@pytest.mark.parametrize('family', FAMILIES)
def test_family_config_reads_what_the_generator_writes(tmp_path, family):
    """The family's config loads both splits of the generated family.

    The data set refuses a config whose classes or groups (names, values,
    multi-label, categories) differ from the file's, so loading is the check.
    """
    from mmdet.registry import DATASETS
    from mmengine.config import Config

    out = _make(tmp_path / family, family)
    cfg = Config.fromfile(
        osp.join(
            REPO,
            'configs',
            'mask2former-attr',
            'families',
            f'mask2former-attr_r18_1xb8-1500i_{family}.py',
        )
    )
    assert cfg.data_root == f'data/families/{family}/'
    assert list(cfg.classes) == MAKE_SHAPES.family_spec(family)['categories']
    head = cfg.model.panoptic_head
    assert head.num_things_classes == len(cfg.classes)
    assert len(head.loss_cls.class_weight) == len(cfg.classes) + 1
    for split, loader in (
        ('train', cfg.train_dataloader),
        ('val', cfg.val_dataloader),
    ):
        dataset_cfg = loader.dataset.copy()
        dataset_cfg.update(data_root=str(out) + '/', validate='always')
        dataset = DATASETS.build(dataset_cfg)
        dataset.full_init()
        assert len(dataset) == len(_coco(out, split)['images'])
