"""The embedded shapes data set: layout, determinism and true labels."""

import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from attr_data_utils import REPO, run_tool
from mmdet.registry import DATASETS

from mmmultilabel.datasets import validate_attr_coco
from mmmultilabel.utils import AttributeSpec

TOOL = 'tools/dataset_converters/make_shapes.py'
ARGS = ['--num-train', '6', '--num-val', '3', '--seed', '3', '--no-progress']


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'make_shapes', osp.join(REPO, TOOL)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MAKE_SHAPES = load_tool()


def tree(root):
    """{relative path: bytes} of every file below ``root``."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = f.read()
    return out


@pytest.fixture(scope='module')
def shapes(tmp_path_factory):
    out = tmp_path_factory.mktemp('shapes') / 'shapes'
    proc = run_tool(TOOL, out, *ARGS)
    assert proc.returncode == 0, proc.stderr
    return out


def test_layout_and_validity(shapes):
    files = tree(shapes)
    for split, num in (('train', 6), ('val', 3)):
        for i in range(num):
            assert f'{split}/{i:06d}.png' in files
            assert f'{split}/{i:06d}.json' in files
        with open(shapes / 'annotations' / f'{split}.json') as f:
            coco = json.load(f)
        assert len(coco['images']) == num
        assert validate_attr_coco(coco, img_dir=str(shapes / split)) == []
        assert [c['name'] for c in coco['categories']] == [
            'circle',
            'square',
            'triangle',
        ]
    assert json.loads(files['labelme_spec.json']) == MAKE_SHAPES.SPEC


def test_same_seed_same_bytes_and_force(shapes, tmp_path, capsys):
    again = tmp_path / 'again'
    assert MAKE_SHAPES.main([str(again), *ARGS]) == 0
    assert tree(again) == tree(shapes)
    # A non-empty folder is refused unless --force, which regenerates.
    assert (
        MAKE_SHAPES.main([str(again), *ARGS[:-2], '4', '--no-progress']) == 1
    )
    assert 'pass --force' in capsys.readouterr().err
    assert tree(again) == tree(shapes)
    (again / 'notes.txt').write_text('mine')
    args = [str(again), *ARGS[:-2], '4', '--no-progress', '--force']
    assert MAKE_SHAPES.main(args) == 0
    files = tree(again)
    assert files['notes.txt'] == b'mine'
    assert files['train/000000.png'] != tree(shapes)['train/000000.png']


def test_labels_match_the_pixels(shapes):
    """Colour, size and outline of every instance are visible as labelled."""
    with open(shapes / 'annotations' / 'train.json') as f:
        coco = json.load(f)
    images = {img['id']: img for img in coco['images']}
    palette = MAKE_SHAPES.COLORS
    for ann in coco['annotations']:
        img = images[ann['image_id']]
        pixels = cv2.imread(str(shapes / 'train' / img['file_name']))[
            ..., ::-1
        ]
        rle = mask_utils.merge(
            mask_utils.frPyObjects(
                ann['segmentation'], img['height'], img['width']
            )
        )
        mask = mask_utils.decode(rle).astype(bool)
        inside = pixels[mask].astype(np.float64)
        attrs = ann['attributes']
        dist = {
            name: np.linalg.norm(inside - rgb, axis=1)
            for name, rgb in palette.items()
        }
        near = {name: (d < 30).mean() for name, d in dist.items()}
        assert max(near, key=near.get) == attrs['color'], (ann['id'], near)
        # Pixel areas are within 6% of the nominal ones of whole shapes.
        low, high = MAKE_SHAPES.SIZES[attrs['size']]
        assert MAKE_SHAPES.MIN_VISIBLE * low * 0.94 <= ann['area']
        assert ann['area'] <= high * 1.06
        dark = (inside.max(axis=1) < 50).sum()
        assert (dark > 10) == ('outlined' in attrs['pattern']), ann['id']


def test_pipeline_rows_come_from_the_annotations(shapes):
    """Packed rows of LSJ samples are rows of same-class instances."""
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
        dict(type='RandomFlip', prob=0.5),
        dict(
            type='RandomResize',
            scale=(128, 128),
            ratio_range=(0.8, 1.5),
            resize_type='Resize',
            keep_ratio=True,
        ),
        dict(
            type='RandomCrop',
            crop_size=(96, 96),
            crop_type='absolute',
            recompute_bbox=True,
            allow_negative_crop=True,
        ),
        dict(
            type='FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True
        ),
        dict(type='PackAttrDetInputs'),
    ]
    dataset = DATASETS.build(
        dict(
            type='AttrCocoDataset',
            data_root=str(shapes),
            ann_file='annotations/train.json',
            data_prefix=dict(img='train/'),
            pipeline=pipeline,
        )
    )
    spec = AttributeSpec(dataset.metainfo['attribute_groups'])
    with open(shapes / 'annotations' / 'train.json') as f:
        coco = json.load(f)
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        allowed = [
            (i['bbox_label'], spec.encode(a['attributes']))
            for i, a in zip(
                info['instances'],
                [
                    a
                    for a in coco['annotations']
                    if a['image_id'] == info['img_id']
                ],
            )
        ]
        gt = dataset[idx]['data_samples'].gt_instances
        for pair in zip(gt.labels.tolist(), gt.attr_labels.tolist()):
            assert pair in allowed


def whole_shapes(folder, category):
    """``(shape_type, points)`` of every ``category`` shape of a folder."""
    out = []
    for name in sorted(os.listdir(folder)):
        if name.endswith('.json'):
            with open(osp.join(folder, name)) as f:
                for shape in json.load(f)['shapes']:
                    if shape['label'].startswith(category + '|'):
                        out.append((shape['shape_type'], shape['points']))
    return out


def upright(points):
    """Whether a triangle's highest corner is above its base's middle."""
    top, *base = sorted(points, key=lambda p: p[1])
    return abs(top[0] - (base[0][0] + base[1][0]) / 2) < 0.05


@pytest.mark.parametrize('rotate', [False, True])
def test_shapes_are_upright_unless_rotate(tmp_path, rotate):
    out = tmp_path / 'shapes'
    args = [str(out), '--num-train', '30', '--num-val', '1', '--no-progress']
    assert MAKE_SHAPES.main(args + ['--rotate'] * rotate) == 0
    squares = whole_shapes(out / 'train', 'square')
    triangles = [
        points
        for kind, points in whole_shapes(out / 'train', 'triangle')
        if len(points) == 3
    ]
    # Four corners on more than two columns: a turned square.
    turned_squares = [
        p
        for _, p in squares
        if len({round(x, 1) for x, _ in p}) > 2 and len(p) == 4
    ]
    assert squares and triangles
    if rotate:
        assert turned_squares
        assert not all(upright(p) for p in triangles)
    else:
        assert not turned_squares
        assert all(upright(p) for p in triangles)


def test_flat_shapes_have_one_colour_and_two_groups(tmp_path):
    """--flat: no pattern group, no pattern drawn (one colour per shape)."""
    out = tmp_path / 'flat'
    proc = run_tool(
        TOOL,
        out,
        '--flat',
        '--num-train',
        '6',
        '--num-val',
        '1',
        '--no-progress',
    )
    assert proc.returncode == 0, proc.stderr
    with open(out / 'annotations' / 'train.json') as f:
        coco = json.load(f)
    assert [g['name'] for g in coco['attribute_groups']] == ['color', 'size']
    images = {img['id']: img for img in coco['images']}
    assert coco['annotations']
    for ann in coco['annotations']:
        assert set(ann['attributes']) == {'color', 'size'}, ann['id']
        img = images[ann['image_id']]
        pixels = cv2.imread(str(out / 'train' / img['file_name']))[..., ::-1]
        rle = mask_utils.merge(
            mask_utils.frPyObjects(
                ann['segmentation'], img['height'], img['width']
            )
        )
        inside = pixels[mask_utils.decode(rle).astype(bool)].astype(float)
        rgb = MAKE_SHAPES.COLORS[ann['attributes']['color']]
        # all but anti-aliased border pixels are the colour plus noise
        near = (np.linalg.norm(inside - rgb, axis=1) < 20).mean()
        assert near > 0.9, (ann['id'], near)
