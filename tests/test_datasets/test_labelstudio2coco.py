"""Label Studio JSON export -> attribute COCO, and predictions back.

``tests/data/label_studio/export.json`` is written by hand in the format of
Label Studio's Export -> JSON (https://labelstud.io/guide/export.html and
the ``polygonlabels``, ``brushlabels``, ``rectanglelabels`` and
``choices`` result formats); its brush RLE is label-studio-converter's
``mask2rle`` of a 30x40 mask with ``mask[15:25, 20:36] = 1``.
"""

import importlib.util
import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
from attr_data_utils import DATA, REPO

from mmmultilabel.datasets import validate_attr_coco
from mmmultilabel.datasets.label_studio import (
    LabelConfig,
    convert_label_studio,
    write_label_config,
    write_label_studio,
)
from mmmultilabel.datasets.label_studio.reader import (
    LabelStudioError,
    image_candidates,
)

SRC = osp.join(DATA, 'label_studio', 'export.json')
CONFIG = osp.join(DATA, 'label_studio', 'label_config.xml')
TOOL = 'tools/dataset_converters/labelstudio2coco.py'


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'labelstudio2coco', osp.join(REPO, TOOL)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LABELSTUDIO2COCO = load_tool()


def convert(*args):
    return LABELSTUDIO2COCO.main([*map(str, args), '--no-progress'])


@pytest.fixture
def img_dir(tmp_path):
    """The images of the export: street.png (40x30), photos/yard.png."""
    root = tmp_path / 'images'
    (root / 'photos').mkdir(parents=True)
    cv2.imwrite(str(root / 'street.png'), np.zeros((30, 40, 3), np.uint8))
    cv2.imwrite(str(root / 'photos/yard.png'), np.zeros((20, 24, 3), np.uint8))
    return root


def test_export_converts_exactly(img_dir, tmp_path, capsys):
    out = tmp_path / 'out.json'
    assert (
        convert(SRC, out, '--label-config', CONFIG, '--img-dir', img_dir) == 0
    )
    printed = capsys.readouterr()
    coco = json.loads(out.read_text())
    assert validate_attr_coco(coco, img_dir=str(img_dir)) == []
    assert coco['images'] == [
        dict(id=1, file_name='street.png', height=30, width=40),
        dict(id=2, file_name='photos/yard.png', height=20, width=24),
    ]
    assert coco['categories'] == [
        dict(id=1, name='car'),
        dict(id=2, name='bus'),
    ]
    assert coco['attribute_groups'] == [
        dict(name='color', values=['red', 'green', 'blue'], multi_label=False),
        dict(
            name='damage',
            values=['dent', 'scratch'],
            multi_label=True,
            categories=['car'],  # whenLabelValue="car"
        ),
    ]
    anns = coco['annotations']
    got = [
        (a['image_id'], a['category_id'], a.get('attributes')) for a in anns
    ]
    assert got == [
        # the latest annotation of task 11 (not the older, not the cancelled)
        (1, 1, dict(color='red', damage=['dent', 'scratch'])),
        (1, 2, dict(color='blue')),  # alias "b" of blue
        (1, 1, None),  # rectangle: box only
        # "damage" on a bus: the group does not apply to buses
        (2, 2, dict(color='green')),
    ]
    # polygon (10%, 10%)-(40%, 40%) of 40x30 pixels
    assert anns[0]['segmentation'] == [[4, 3, 16, 3, 16, 12, 4, 12]]
    assert anns[0]['bbox'] == [4, 3, 12, 9]
    expected = np.zeros((30, 40), np.uint8)
    expected[15:25, 20:36] = 1
    assert np.array_equal(mask_utils.decode(anns[1]['segmentation']), expected)
    assert anns[1]['bbox'] == [20, 15, 16, 10] and anns[1]['area'] == 160
    assert 'segmentation' not in anns[2]
    assert anns[2]['bbox'] == [20, 15, 10, 6]  # 50%, 50%, 25% x 20%
    assert anns[3]['segmentation'] == [[6, 5, 18, 5, 18, 15, 6, 15]]
    assert '2 polygonlabels' in printed.out
    for warning in [
        '1 task(s) have several annotations',
        '1 result(s): textarea',
        '1 result(s): choices "weather" not linked to a region',
        '1 result(s): choices "damage" on a label it does not apply to',
        'skipped 1 task(s) without annotations',
    ]:
        assert warning in printed.err, printed.err


def test_without_config_groups_are_inferred(img_dir, tmp_path, capsys):
    out = tmp_path / 'out.json'
    assert convert(SRC, out, '--img-dir', img_dir, '--rectangles', 'skip') == 0
    coco = json.loads(out.read_text())
    assert coco['categories'] == [
        dict(id=1, name='bus'),
        dict(id=2, name='car'),
    ]
    # the values found, sorted ("b": no config maps the alias to "blue");
    # the task-level "weather" is no group
    assert coco['attribute_groups'] == [
        dict(name='color', values=['b', 'green', 'red'], multi_label=False),
        dict(name='damage', values=['dent', 'scratch'], multi_label=True),
    ]
    assert [a.get('attributes') for a in coco['annotations']] == [
        dict(color='red', damage=['dent', 'scratch']),
        dict(color='b'),
        dict(color='green', damage=['dent']),  # no config: kept
    ]
    err = capsys.readouterr().err
    assert 'attribute groups inferred' in err
    assert '1 result(s): rectanglelabels (--rectangles skip)' in err


def test_refuses_to_overwrite_without_force(img_dir, tmp_path, capsys):
    out = tmp_path / 'out.json'
    out.write_text('keep me')
    assert convert(SRC, out, '--img-dir', img_dir) == 1
    assert 'pass --force' in capsys.readouterr().err
    assert out.read_text() == 'keep me'
    assert convert(SRC, out, '--img-dir', img_dir, '--force') == 0
    assert len(json.loads(out.read_text())['annotations']) == 4


def broken_export(tmp_path):
    tasks = json.loads(open(SRC).read())
    results = tasks[0]['annotations'][1]['result']
    results[1]['value']['choices'] = ['purple']  # poly1 color
    results[3]['value']['rle'] = results[3]['value']['rle'][:-6]  # brush1
    tasks[1]['annotations'][0]['result'][0]['value']['polygonlabels'] = [
        'tram'
    ]
    tasks[2]['annotations'][0]['was_cancelled'] = False
    tasks[2]['annotations'][0]['result'] = []  # image 5e6f7a8b-street.png
    tasks[2]['data']['image'] = 'https://example.com/x/lost.png?sig=1'
    path = tmp_path / 'broken.json'
    path.write_text(json.dumps(tasks))
    return path, results


def test_defects_name_file_task_region_and_fix(img_dir, tmp_path, capsys):
    path, results = broken_export(tmp_path)
    out = tmp_path / 'out.json'
    args = (path, out, '--label-config', CONFIG, '--img-dir', img_dir)
    assert convert(*args) == 1
    err = capsys.readouterr().err
    assert not out.exists()
    # One defect per task: the first found.
    assert (
        f"{path}: task 11: region 'brush1' (brushlabels): broken brush RLE: "
        'the stream ends in the middle of a record' in err
    )
    assert (
        f"{path}: task 12: region 'yard1' (polygonlabels): label 'tram' is "
        'not in the labelling config' in err
    )
    assert 'add <Label value="tram"/> to the config' in err
    assert (
        f"{path}: task 13: image 'https://example.com/x/lost.png?sig=1' not "
        f"found (looked for ['{img_dir / 'lost.png'}'])" in err
    )
    assert '3 defect(s) in 3 task(s); nothing written' in err

    results[3]['value']['rle'] = json.loads(open(SRC).read())[0][
        'annotations'
    ][1]['result'][3]['value']['rle']
    tasks = json.loads(path.read_text())
    tasks[0]['annotations'][1]['result'] = results
    path.write_text(json.dumps(tasks))
    assert convert(*args, '--skip-invalid') == 0
    captured = capsys.readouterr()
    assert (
        f'{path}: task 11: region \'poly1\' (car): choices "color": '
        "['purple'] not among the config's choices" in captured.err
    )
    assert 'skipped 3 task(s) with defects' in captured.out
    assert json.loads(out.read_text())['images'] == []


def test_json_min_is_refused(tmp_path):
    path = tmp_path / 'min.json'
    path.write_text(
        json.dumps(
            [
                dict(
                    image='/data/upload/1/a.png',
                    id=1,
                    annotation_id=2,
                    annotator=1,
                    label=[],
                )
            ]  # fmt: skip
        )
    )
    with pytest.raises(LabelStudioError, match='JSON-MIN export, which is'):
        convert_label_studio(str(path), progress=False)


@pytest.mark.parametrize(
    'ref,expected',
    [
        ('/data/upload/7/0a1b2c3d-cat.jpg', ['0a1b2c3d-cat.jpg', 'cat.jpg']),
        ('/data/local-files/?d=set%201/cat.jpg', ['set 1/cat.jpg', 'cat.jpg']),
        ('https://host/b/cat.jpg?X-Amz=1', ['cat.jpg']),
        ('s3://bucket/dir/cat.jpg', ['cat.jpg']),
        ('dir/cat.jpg', ['dir/cat.jpg', 'cat.jpg']),
    ],
)
def test_image_references_map_to_the_images_folder(ref, expected):
    assert image_candidates(ref, '/imgs') == [
        osp.join('/imgs', p) for p in expected
    ]


def test_written_config_reads_back():
    groups = [
        dict(name='color', values=['red', 'green'], multi_label=False),
        dict(
            name='parts',
            values=['wheel', 'door & roof'],
            multi_label=True,
            categories=['car'],
        ),
    ]
    config = LabelConfig.from_string(
        write_label_config(['car', 'bus'], groups)
    )
    assert config.categories == ['car', 'bus']
    assert config.groups == groups
    assert config.data_key == 'image'
    assert config.region_tags == {'label': 'brushlabels'}


def _prediction_records():
    """Two images of inferencer records with known masks and attributes."""
    masks = []
    a = np.zeros((30, 40), np.uint8)
    a[2:12, 3:20] = 1
    a[5:8, 8:10] = 0  # a hole
    b = np.zeros((30, 40), np.uint8)
    b[20:28, 25:39] = 1
    b[0:3, 37:40] = 1  # a second part
    masks = [a, b]
    rles = [mask_utils.encode(np.asfortranarray(m)) for m in masks]
    for r in rles:
        r['counts'] = r['counts'].decode()
    instances = [
        dict(
            category='car',
            score=0.9,
            mask=rles[0],
            attributes=dict(
                color=dict(value='red', score=0.8),
                damage=dict(value=['dent', 'scratch'], score=[0.7, 0.6]),
            ),
        ),
        dict(
            category='bus',
            score=0.5,
            mask=rles[1],
            attributes=dict(
                color=dict(value=None, score=None),
                damage=dict(value=[], score=[]),
            ),
        ),
    ]
    return [
        dict(image='/in/street.png', height=30, width=40, instances=instances),
        dict(image='/in/photos/yard.png', height=20, width=24, instances=[]),
    ], masks


def test_predictions_round_trip(img_dir, tmp_path):
    records, masks = _prediction_records()
    meta = dict(
        classes=('car', 'bus'),
        attribute_groups=[
            dict(name='color', values=['red', 'green'], multi_label=False),
            dict(name='damage', values=['dent', 'scratch'], multi_label=True),
        ],
    )
    tasks_file, config_file = write_label_studio(
        records, str(tmp_path / 'ls'), meta, model_version='v1'
    )
    tasks = json.loads(open(tasks_file).read())
    pred = tasks[0]['predictions'][0]
    assert tasks[0]['data'] == {'image': '/data/local-files/?d=street.png'}
    assert pred['model_version'] == 'v1'
    assert pred['score'] == pytest.approx(0.7)
    assert [(r['id'], r['type'], r['score']) for r in pred['result']] == [
        ('inst0', 'brushlabels', 0.9),
        ('inst0', 'choices', 0.8),
        ('inst0', 'choices', 0.6),  # the lowest of the values present
        ('inst1', 'brushlabels', 0.5),
    ]
    with pytest.raises(Exception, match='exist'):
        write_label_studio(records, str(tmp_path / 'ls'), meta)

    shutil.copy(img_dir / 'photos' / 'yard.png', img_dir / 'yard.png')
    result = convert_label_studio(
        tasks_file,
        LabelConfig.from_file(config_file),
        img_dir=str(img_dir),
        source='predictions',
        progress=False,
    )
    assert result.defects == []
    anns = result.coco['annotations']
    assert [a['image_id'] for a in anns] == [1, 1]
    for ann, mask in zip(anns, masks):
        assert np.array_equal(mask_utils.decode(ann['segmentation']), mask)
    assert anns[0]['attributes'] == dict(
        color='red', damage=['dent', 'scratch']
    )
    assert 'attributes' not in anns[1]  # unknown, and known-empty
    assert result.coco['images'][1]['file_name'] == 'yard.png'


def test_polygon_predictions_keep_the_largest_outline(tmp_path):
    records, masks = _prediction_records()
    meta = dict(classes=('car', 'bus'), attribute_groups=[])
    tasks_file, _ = write_label_studio(
        records[:1], str(tmp_path / 'ls'), meta, region='polygonlabels'
    )
    result = json.loads(open(tasks_file).read())[0]['predictions'][0]['result']
    points = np.array(result[1]['value']['points']) * [40 / 100, 30 / 100]
    # The outline of the 8x14 box (pixel corners 25..38 x 20..27).
    assert sorted(map(tuple, points.round(3).tolist())) == [
        (25, 20), (25, 27), (38, 20), (38, 27)
    ]  # fmt: skip


def test_empty_choices_of_a_single_label_group_are_unknown(img_dir, tmp_path):
    # A per-region <Choices> result with no choice ticked says nothing about
    # the group: unknown (left out), as a group without a result.
    base = dict(to_name='image', original_width=40, original_height=30)
    region = dict(
        id='r1',
        type='polygonlabels',
        from_name='poly',
        value=dict(
            points=[[10, 10], [40, 10], [40, 40]], polygonlabels=['car']
        ),
        **base,
    )
    empty = dict(
        id='r1',
        type='choices',
        from_name='color',
        value=dict(choices=[]),
        **base,
    )
    task = dict(
        id=1,
        data=dict(image='street.png'),
        annotations=[dict(id=1, result=[region, empty])],
    )
    path = tmp_path / 'export.json'
    path.write_text(json.dumps([task]))
    result = convert_label_studio(
        str(path), LabelConfig.from_file(CONFIG), str(img_dir), progress=False
    )
    assert result.defects == []
    (ann,) = result.coco['annotations']
    assert 'attributes' not in ann
