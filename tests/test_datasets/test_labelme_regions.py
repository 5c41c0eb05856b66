"""labelme's conventions: regions to ignore, background, bitmap masks and
shapes that are not regions (hand-made file ``tests/data/labelme/regions``).

The 20x16 image holds: a ``car`` rectangle (2, 2)-(8, 6); an ``__ignore__``
polygon (10, 2)-(18, 8); a ``_background_`` rectangle; a ``line``, a
``point`` and a ``linestrip``; a ``car`` mask of 3x4 pixels with fractional
corners (17.6, 13.6)-(20.6, 15.6), cut by the image border; a ``bus`` mask
of 3x4 pixels with integer corners (12, 12)-(14, 13), a 2x3 box.
"""

import importlib.util
import json
import os.path as osp

import numpy as np
import pycocotools.mask as mask_utils
import pytest
from attr_data_utils import DATA, REPO, write_labelme

from mmmultilabel.datasets import validate_attr_coco
from mmmultilabel.datasets.labelme import LabelmeError, LabelmeSpec

TOOL = 'tools/dataset_converters/labelme2coco.py'
SRC = osp.join(DATA, 'labelme', 'regions')
FILE = osp.join(SRC, 'regions.json')


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'labelme2coco_regions', osp.join(REPO, TOOL)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LABELME2COCO = load_tool()


def convert(src, out, *args):
    return LABELME2COCO.main(
        [str(src), str(out), '--no-progress', *map(str, args)]
    )


def decode(ann, height=16, width=20):
    seg = ann['segmentation']
    if isinstance(seg, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    else:
        rle = dict(seg, counts=seg['counts'].encode())
    return mask_utils.decode(rle).astype(bool)


@pytest.fixture(scope='module')
def regions(tmp_path_factory):
    out = tmp_path_factory.mktemp('regions') / 'out.json'
    assert convert(SRC, out, '--classes', 'car', 'bus') == 0
    return json.loads(out.read_text())


def test_ignore_region_is_a_crowd_region_of_every_category(regions):
    assert regions['categories'] == [
        dict(id=1, name='car'),
        dict(id=2, name='bus'),
    ]
    crowd = [a for a in regions['annotations'] if a['iscrowd']]
    # one region to ignore, written for car (1) and bus (2)
    assert [a['category_id'] for a in crowd] == [1, 2]
    expected = np.zeros((16, 20), bool)
    expected[2:8, 10:18] = True  # pixels x 10..17, y 2..7
    for ann in crowd:
        assert (decode(ann) == expected).all()
        assert ann['area'] == 48 and 'attributes' not in ann
    assert validate_attr_coco(regions, img_dir=SRC) == []


def test_mask_shapes_are_placed_as_labelme_places_them(regions):
    anns = [a for a in regions['annotations'] if not a['iscrowd']]
    # shape order: car rectangle, car mask, bus mask
    assert [a['category_id'] for a in anns] == [1, 1, 2]
    rect, car, bus = anns
    assert rect['bbox'] == [2.0, 2.0, 6.0, 4.0] and rect['area'] == 24
    # fractional corners: top-left (round(17.6), round(13.6)) = (18, 14),
    # the PNG's own 3x4 size [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]],
    # cut by the 20x16 image to rows 14-15, columns 18-19
    expected = np.zeros((16, 20), bool)
    expected[14, 18:20] = True
    expected[15, 19] = True
    assert (decode(car) == expected).all()
    assert car['area'] == 3 and car['bbox'] == [18.0, 14.0, 2.0, 2.0]
    # integer corners: the box (13 - 12 + 1) x (14 - 12 + 1) at (12, 12)
    # takes the top-left 2x3 of [[1, 1, 1, 1], [1, 0, 0, 1], [1, 1, 1, 1]]
    expected = np.zeros((16, 20), bool)
    expected[12, 12:15] = True
    expected[13, 12] = True
    assert (decode(bus) == expected).all()
    assert bus['area'] == 4 and bus['bbox'] == [12.0, 12.0, 3.0, 2.0]


def test_non_regions_and_background_are_counted_not_fatal(tmp_path, capsys):
    out = tmp_path / 'out.json'
    assert convert(SRC, out, '--classes', 'car', 'bus') == 0
    captured = capsys.readouterr()
    assert (
        f'warning: {FILE}: skipped 4 shape(s) that are not regions to learn '
        '(1 _background_, 1 line, 1 linestrip, 1 point)'
    ) in captured.err
    assert 'skipped 4 shape(s) that are not regions to learn in 1 file(s)' in (
        captured.out
    )
    assert '_background_' not in [
        c['name'] for c in json.loads(out.read_text())['categories']
    ]


def test_inferred_categories_leave_out_ignore_and_background(tmp_path):
    out = tmp_path / 'out.json'
    assert convert(SRC, out) == 0
    coco = json.loads(out.read_text())
    assert [c['name'] for c in coco['categories']] == ['bus', 'car']
    assert sum(a['iscrowd'] for a in coco['annotations']) == 2


def test_user_ignore_labels(tmp_path, capsys):
    shape = dict(group_id=None, description='', flags={})
    write_labelme(
        str(tmp_path),
        'blur',
        [
            dict(
                shape,
                label='car',
                shape_type='rectangle',
                points=[[1, 1], [5, 5]],
            ),
            dict(
                shape,
                label='blurry',
                shape_type='rectangle',
                points=[[10, 10], [14, 13]],
            ),
        ],
        size=(20, 20),
    )
    out = tmp_path / 'out.json'
    assert convert(tmp_path, out, '--classes', 'car') == 1
    assert 'undeclared category "blurry"' in capsys.readouterr().err
    assert (
        convert(tmp_path, out, '--classes', 'car', '--ignore-labels', 'blurry')
        == 0
    )
    anns = json.loads(out.read_text())['annotations']
    assert [(a['category_id'], a['iscrowd'], a['area']) for a in anns] == [
        (1, 0, 16),
        (1, 1, 12),  # 4x3 pixels
    ]
    with pytest.raises(LabelmeError, match='both categories and ignore'):
        LabelmeSpec.from_dict(
            dict(categories=['car', 'blurry'], ignore_labels=['blurry'])
        )


@pytest.mark.parametrize(
    'mask,points,message',
    [
        ('not base64!', [[1, 1], [3, 3]], 'not valid base64'),
        (None, [[1, 1], [3, 3]], 'without a "mask"'),
        ('iVBORw0KGgo=', [[1, 1], [3, 3]], 'not a one-channel PNG'),
    ],
)
def test_broken_mask_shape_is_a_defect(
    tmp_path, capsys, mask, points, message
):
    write_labelme(
        str(tmp_path),
        'bad',
        [
            dict(
                label='car',
                shape_type='mask',
                points=points,
                mask=mask,
                group_id=None,
                flags={},
            )
        ],
        size=(10, 10),
    )
    assert convert(tmp_path, tmp_path / 'out.json', '--classes', 'car') == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bad.json'}: shape 0 (label 'car'): " in err
    assert message in err
