"""CVAT for images 1.1 reader, mask RLE and writer; the COCO 1.0 form of
CVAT/Datumaro. The files of tests/data/cvat are written by hand in CVAT's
documented format."""

import json
import os.path as osp
import shutil
import zipfile

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from attr_data_utils import DATA

from mmmultilabel.datasets import load_attr_coco
from mmmultilabel.datasets.cvat import (
    CvatOptions,
    decode_mask,
    encode_mask,
    read_cvat,
    write_cvat_xml,
)
from mmmultilabel.datasets.formats import cvat_coco_groups, detect_format
from mmmultilabel.utils import AnnotationDefectError

CVAT = osp.join(DATA, 'cvat')

# rle "1, 3, 2, 4, 2" over the 4 x 3 box at left 2, top 3, row-major from
# a background run: 0111 / 0011 / 1100.
HAND_RLE = [1, 3, 2, 4, 2]
HAND_BOX = (2, 3, 4, 3)


def hand_mask() -> np.ndarray:
    mask = np.zeros((16, 20), dtype=bool)
    mask[3, 3:6] = True
    mask[4, 4:6] = True
    mask[5, 2:4] = True
    return mask


def task_export(tmp_path, xml_text=None, images=('a.png', 'b.png')):
    """``annotations.xml`` and ``images/`` of the hand-written task."""
    (tmp_path / 'images').mkdir(exist_ok=True)
    for name in images:
        cv2.imwrite(
            str(tmp_path / 'images' / name), np.zeros((16, 20, 3), np.uint8)
        )
    xml = tmp_path / 'annotations.xml'
    if xml_text is None:
        shutil.copy(osp.join(CVAT, 'task.xml'), xml)
    else:
        xml.write_text(xml_text)
    return str(xml)


PROJECT_IMAGES = (
    ('train', 't0.png'),
    ('train', 't1.png'),
    ('val', 'v0.png'),
    ('test', 'e0.png'),
)


def project_zip(tmp_path, xml_text=None, images=PROJECT_IMAGES) -> str:
    """The hand-written project export zipped as CVAT zips it."""
    path = tmp_path / 'project.zip'
    with zipfile.ZipFile(path, 'w') as zf:
        if xml_text is None:
            zf.write(osp.join(CVAT, 'project.xml'), 'annotations.xml')
        else:
            zf.writestr('annotations.xml', xml_text)
        for sub, name in images:
            ok, png = cv2.imencode('.png', np.zeros((24, 24, 3), np.uint8))
            zf.writestr(f'images/{sub}/{name}', png.tobytes())
    return str(path)


def seg_mask(ann, height, width) -> np.ndarray:
    seg = ann['segmentation']
    if isinstance(seg, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    else:
        rle = dict(seg, counts=seg['counts'].encode())
    return mask_utils.decode(rle).astype(bool)


def test_mask_rle_against_a_hand_computation():
    got = decode_mask(HAND_RLE, HAND_BOX, 16, 20)
    np.testing.assert_array_equal(got, hand_mask())
    assert encode_mask(hand_mask()) == (HAND_RLE, HAND_BOX)
    # a box starting with foreground: an empty first background run
    one = np.zeros((2, 2), bool)
    one[0, 0] = True
    assert encode_mask(one) == ([0, 1], (0, 0, 1, 1))


def test_task_groups_shapes_and_z_order(tmp_path):
    result = read_cvat(task_export(tmp_path))
    assert not result.project and list(result.subsets) == ['default']
    coco = result.subsets['default']
    assert [c['name'] for c in coco['categories']] == ['car', 'person', 'tree']
    assert coco['attribute_groups'] == [
        dict(
            name='color',
            values=['red', 'green', 'dark blue'],
            multi_label=False,
            categories=['car', 'person'],
        ),
        dict(
            name='parked',
            values=['false', 'true'],
            multi_label=False,
            categories=['car'],
        ),
        dict(
            name='car.size',
            values=['compact', 'suv'],
            multi_label=False,
            categories=['car'],
        ),
        dict(
            name='tree.size',
            values=['small', 'big'],
            multi_label=False,
            categories=['tree'],
        ),
        dict(
            name='pose',
            values=['standing', 'sitting'],
            multi_label=False,
            categories=['person'],
        ),
    ]
    anns = coco['annotations']
    assert [a['category_id'] for a in anns] == [1, 2, 3, 2]
    assert anns[0]['attributes'] == {
        'color': 'dark blue',
        'parked': 'true',
        'car.size': 'suv',
    }
    assert anns[1]['attributes'] == {'pose': 'sitting'}  # color undefined
    # the car polygon (z_order 1, pixels x 4..9) covers the person mask's
    # columns 4 and 5: left are (3, 3), (5, 2) and (5, 3)
    expected = np.zeros((16, 20), bool)
    expected[3, 3] = expected[5, 2] = expected[5, 3] = True
    np.testing.assert_array_equal(seg_mask(anns[1], 16, 20), expected)
    assert anns[1]['area'] == 3
    # the ellipse is filled as CVAT fills it for its COCO export
    ellipse = np.zeros((16, 20), np.uint8)
    cv2.ellipse(ellipse, (15, 11), (3, 2), 0.0, 0, 360, 1, thickness=-1)
    np.testing.assert_array_equal(seg_mask(anns[2], 16, 20), ellipse > 0)
    assert result.skipped == {'box': 1, 'points': 1, 'polyline': 1, 'tag': 1}
    assert result.kept == {'polygon': 2, 'mask': 1, 'ellipse': 1}
    text = '\n'.join(result.warnings)
    assert 'attribute "plate" is of type "text"' in text
    assert 'attribute "height" is of type "number"' in text
    assert 'skipped 4 shape(s)' in text


def test_grouped_shapes_are_named(tmp_path):
    xml = open(osp.join(CVAT, 'task.xml')).read()
    xml = xml.replace(
        '<polygon label="car" source="manual"',
        '<polygon label="car" group_id="3" source="manual"',
    )
    result = read_cvat(task_export(tmp_path, xml))
    assert result.kept == {'polygon': 2, 'mask': 1, 'ellipse': 1}
    assert '1 shape(s) carry a "group_id"' in '\n'.join(result.warnings)


def test_task_options_boxes_and_occluded(tmp_path):
    result = read_cvat(
        task_export(tmp_path), CvatOptions(boxes='keep', occluded=True)
    )
    coco = result.subsets['default']
    box = coco['annotations'][3]
    assert 'segmentation' not in box and box['bbox'] == [1, 12, 4, 3]
    assert box['area'] == 12
    groups = {g['name']: g for g in coco['attribute_groups']}
    assert groups['occluded'] == dict(
        name='occluded', values=['false', 'true'], multi_label=False
    )
    assert coco['annotations'][1]['attributes']['occluded'] == 'true'


def test_project_zip_subsets_and_checkbox_group(tmp_path):
    result = read_cvat(
        project_zip(tmp_path),
        CvatOptions(checkboxes='group', checkbox_group='pattern'),
    )
    assert result.project
    assert sorted(result.subsets) == ['test', 'train', 'val']
    train = result.subsets['train']
    assert [i['file_name'] for i in train['images']] == [
        'train/t0.png',
        'train/t1.png',
    ]
    assert train['attribute_groups'] == [
        dict(name='color', values=['red', 'green', 'blue'], multi_label=False),
        dict(
            name='pattern',
            values=['striped', 'dotted'],
            multi_label=True,
            categories=['circle'],
        ),
    ]
    assert train['annotations'][0]['attributes'] == dict(
        color='green', pattern=['striped']
    )
    assert result.subsets['val']['annotations'][0]['attributes'] == dict(
        color='red', pattern=['dotted']
    )
    # "0, 8, 1, 7" over the 4 x 4 box at (3, 5): all but pixel 8 (row 2,
    # column 0)
    expected = np.zeros((24, 24), bool)
    expected[5:9, 3:7] = True
    expected[7, 3] = False
    mask = seg_mask(train['annotations'][2], 24, 24)
    np.testing.assert_array_equal(mask, expected)


BAD_CASES = {
    'value outside the spec': (
        'task',
        ('<attribute name="pose">sitting</attribute>', '<attribute '
         'name="pose">running</attribute>'),
        ['image "a.png"', 'shape 1 (<mask> label "person")',
         "'running' is outside the spec", "'standing', 'sitting'"],
    ),
    'label not in meta': (
        'task',
        ('<polygon label="person"', '<polygon label="bicycle"'),
        ['image "b.png"', 'label "bicycle" is not in <meta>'],
    ),
    'broken rle': (
        'task',
        ('rle="1, 3, 2, 4, 2"', 'rle="1, 3, 2, 4"'),
        ['image "a.png"', '<mask> label "person"',
         'add up to 10', '4 x 3 = 12', 'export the mask again'],
    ),
    'missing image': (
        'task',
        ('name="b.png"', 'name="c.png"'),
        ['image "c.png"', 'image file not found', 'Save images'],
    ),
    'image twice in a subset': (
        'project',
        ('name="t1.png"', 'name="t0.png"'),
        ['image "train/t0.png" is listed twice (as images 0 and 1)'],
    ),
    'shape without a label': (
        'task',
        ('<polygon label="person"', '<polygon label=""'),
        ['image "b.png"', 'shape 0 (<polygon> label "")', 'has no label',
         "one of ['car', 'person', 'tree']"],
    ),
    'values separated by spaces': (
        'task',
        ('<values>standing\nsitting</values>',
         '<values>standing sitting</values>'),
        ['image "a.png"', "'sitting' is outside the spec",
         "['standing sitting']", 'one value per line'],
    ),
}  # fmt: skip


def test_project_same_name_in_two_subsets(tmp_path):
    # images/test/t0.png and images/train/t0.png are two files
    with open(osp.join(CVAT, 'project.xml'), encoding='utf-8') as f:
        text = f.read().replace('name="e0.png"', 'name="t0.png"')
    images = PROJECT_IMAGES[:3] + (('test', 't0.png'),)
    result = read_cvat(project_zip(tmp_path, text, images))
    assert [i['file_name'] for i in result.subsets['test']['images']] == [
        'test/t0.png'
    ]
    assert [i['file_name'] for i in result.subsets['train']['images']] == [
        'train/t0.png',
        'train/t1.png',
    ]


VIDEO = """<annotations><version>1.1</version><meta><task>
<labels><label><name>car</name><attributes/></label></labels>
<original_size><width>20</width><height>16</height></original_size>
</task></meta>
<track id="0" label="car">
  <polygon frame="3" outside="0" points="2,2;8,2;8,8"/>
  <polygon frame="6" outside="1" points="2,2;8,2;8,8"/>
</track></annotations>"""


@pytest.mark.parametrize('ext', ['.png', '.PNG'])
def test_video_frames_found_by_any_extension(ext, tmp_path):
    # CVAT saves video frames as frame_NNNNNN.PNG, Datumaro as .png
    path = task_export(tmp_path, VIDEO, images=(f'frame_000003{ext}',))
    coco = read_cvat(path).subsets['default']
    assert [i['file_name'] for i in coco['images']] == [f'frame_000003{ext}']
    assert [i['width'] for i in coco['images']] == [20]
    # one instance (frame 6 is outside), the pixels pycocotools fills
    rle = mask_utils.frPyObjects([[2, 2, 8, 2, 8, 8]], 16, 20)
    assert [a['area'] for a in coco['annotations']] == [
        int(mask_utils.area(rle)[0])
    ]


@pytest.mark.parametrize('case', sorted(BAD_CASES))
def test_defects_name_file_image_shape_and_fix(case, tmp_path):
    kind, (old, new), expected = BAD_CASES[case]
    src = osp.join(CVAT, f'{kind}.xml')
    with open(src, encoding='utf-8') as f:
        text = f.read()
    assert old in text
    text = text.replace(old, new, 1)
    if kind == 'task':
        path = task_export(tmp_path, text)
    else:
        path = project_zip(tmp_path, text)
    with pytest.raises(AnnotationDefectError) as info:
        read_cvat(path)
    message = str(info.value)
    assert path in message
    for part in expected:
        assert part in message


DATUMARO = osp.join(CVAT, 'datumaro_coco.json')
CONFIG_GROUPS = [
    dict(name='color', values=['red', 'green']),
    dict(name='parked', values=['false', 'true']),
]


def test_datumaro_coco_with_config_groups():
    with open(DATUMARO) as f:
        data = json.load(f)
    assert detect_format(data) == 'cvat_coco'
    warnings = []
    out = load_attr_coco(
        data,
        attribute_groups=CONFIG_GROUPS,
        warnings=warnings,
        log_warnings=False,
    )
    assert [a.get('attributes') for a in out['annotations']] == [
        dict(color='red', parked='true'),
        dict(color='green', parked='false'),
        dict(color='green'),
    ]
    text = '\n'.join(warnings)
    assert 'attributes.occluded' in text and 'occluded flag' in text
    assert 'track_id' not in text and 'keyframe' not in text
    assert 'attributes.weight' in text  # a number, no group here

    data['annotations'][1]['attributes']['color'] = 'gren'
    with pytest.raises(AnnotationDefectError) as info:
        load_attr_coco(data, attribute_groups=CONFIG_GROUPS)
    assert 'annotation id=2 (image id=1): field "attributes.color"' in str(
        info.value
    )
    assert "'gren'" in str(info.value)


def test_datumaro_coco_without_groups_is_a_clear_error():
    with pytest.raises(AnnotationDefectError, match='cvat2coco.py'):
        load_attr_coco(DATUMARO)


def test_datumaro_coco_groups_from_the_values_found():
    with open(DATUMARO) as f:
        data = json.load(f)
    warnings = []
    assert cvat_coco_groups(data, warnings) == [
        dict(name='color', values=['green', 'red'], multi_label=False),
        dict(
            name='parked',
            values=['false', 'true'],
            multi_label=False,
            categories=['car'],
        ),
    ]
    text = '\n'.join(warnings)
    assert 'attributes.weight' in text and "['int']" in text
    assert 'attributes.occluded' in text


def _records(masks, attrs, height=16, width=20):
    instances = []
    for mask, (cat, attributes) in zip(masks, attrs):
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        instances.append(
            dict(
                category=cat,
                score=0.9,
                mask=dict(size=rle['size'], counts=rle['counts'].decode()),
                attributes=attributes,
            )
        )
    return [
        dict(image='/x/a.png', height=height, width=width, instances=instances)
    ]


ROUND_GROUPS = [
    dict(name='color', values=['red', 'green']),
    dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
]


def _round_trip_inputs():
    blob = np.zeros((16, 20), bool)
    blob[2:9, 3:12] = True
    blob[5:9, 3:6] = False  # an L shape
    attrs = [
        (
            'car',
            dict(
                color=dict(value='green', score=0.8),
                pattern=dict(value=['dotted'], score=[0.7]),
            ),
        ),
        (
            'bus',
            dict(
                color=dict(value=None, score=None),
                pattern=dict(value=None, score=None),
            ),
        ),
    ]
    return [blob, hand_mask()], attrs


@pytest.mark.parametrize('shapes', ['mask', 'polygon'])
def test_predictions_round_trip(shapes, tmp_path):
    masks, attrs = _round_trip_inputs()
    (tmp_path / 'images').mkdir()
    cv2.imwrite(str(tmp_path / 'images/a.png'), np.zeros((16, 20, 3)))
    xml = str(tmp_path / 'annotations.xml')
    counts = write_cvat_xml(
        _records(masks, attrs), xml, ['car', 'bus'], ROUND_GROUPS, shapes
    )
    assert counts == dict(images=1, instances=2, shapes=2)
    result = read_cvat(
        xml, CvatOptions(checkboxes='group', checkbox_group='pattern')
    )
    coco = result.subsets['default']
    assert coco['attribute_groups'] == [
        dict(name='color', values=['red', 'green'], multi_label=False),
        dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
    ]
    anns = coco['annotations']
    assert [a['category_id'] for a in anns] == [1, 2]
    assert anns[0]['attributes'] == dict(color='green', pattern=['dotted'])
    assert 'attributes' not in anns[1]  # unknown stays unknown
    for ann, mask in zip(anns, masks):
        got = seg_mask(ann, 16, 20)
        if shapes == 'mask':
            np.testing.assert_array_equal(got, mask)
            continue
        # polygons through the boundary pixels' centres: only pixels of
        # the mask's one-pixel boundary band may differ
        kernel = np.ones((3, 3), np.uint8)
        m = mask.astype(np.uint8)
        band = cv2.dilate(m, kernel) != cv2.erode(m, kernel)
        assert not (got ^ mask)[~band].any()
    if shapes == 'polygon':  # the thick L keeps most of its pixels
        got = seg_mask(anns[0], 16, 20)
        assert (got & masks[0]).sum() / (got | masks[0]).sum() > 0.6
