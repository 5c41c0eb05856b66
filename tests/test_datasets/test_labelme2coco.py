"""labelme -> attribute COCO: the converter's command line and its defects."""

import importlib.util
import json
import math
import os.path as osp
import shutil

import pytest
from attr_data_utils import DATA, REPO, write_labelme

from mmmultilabel.datasets import validate_attr_coco
from mmmultilabel.datasets.labelme import LabelmeError, parse_label

TOOL = 'tools/dataset_converters/labelme2coco.py'
SRC = osp.join(DATA, 'labelme', 'attributes')
SPEC = osp.join(DATA, 'labelme_spec.json')
CLI_SPEC = [
    '--classes',
    'car',
    'bus',
    '--group',
    'color=red,green,blue',
    '--group',
    'damage=dent,scratch',
    '--multi-label',
    'damage',
]


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'labelme2coco', osp.join(REPO, TOOL)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LABELME2COCO = load_tool()


def convert(*args):
    return LABELME2COCO.main([*map(str, args), '--no-progress'])


def test_fixture_folder_converts_exactly(tmp_path):
    out = tmp_path / 'out.json'
    assert convert(SRC, out, '--spec', SPEC) == 0
    coco = json.loads(out.read_text())
    assert validate_attr_coco(coco, img_dir=SRC) == []
    assert coco['images'] == [
        dict(id=1, file_name='img1.png', height=30, width=40),
        dict(id=2, file_name='sub/img2.png', height=20, width=24),
    ]
    assert coco['categories'] == [
        dict(id=1, name='car'),
        dict(id=2, name='bus'),
    ]
    got = [
        (a['image_id'], a['category_id'], a.get('attributes'))
        for a in coco['annotations']
    ]
    assert got == [
        # label "car|color=red" + flags damage=dent (true), scratch (false)
        (1, 1, dict(color='red', damage=['dent'])),
        # rectangle "bus|color=blue|damage=scratch,dent": declared order
        (1, 2, dict(color='blue', damage=['dent', 'scratch'])),
        # circle "car" with the bare-value flag "red"; damage unknown
        (1, 1, dict(color='red')),
        # two polygons of group_id 1: one instance
        (1, 2, dict(color='green')),
        # "car|damage=": damage known to be empty, colour unknown
        (2, 1, dict(damage=[])),
    ]
    anns = coco['annotations']
    assert anns[1]['bbox'] == [20.0, 2.0, 10.0, 10.0]
    assert anns[1]['area'] == 100
    assert abs(anns[2]['area'] - math.pi * 16) < 4  # circle of radius 4
    assert len(anns[3]['segmentation']) == 2
    assert anns[3]['bbox'] == [20.0, 18.0, 16.0, 8.0]


def test_cli_options_equal_the_spec_file(tmp_path):
    assert convert(SRC, tmp_path / 'a.json', '--spec', SPEC) == 0
    assert convert(SRC, tmp_path / 'b.json', *CLI_SPEC) == 0
    assert (tmp_path / 'a.json').read_text() == (
        tmp_path / 'b.json'
    ).read_text()


def test_refuses_to_overwrite_without_force(tmp_path, capsys):
    out = tmp_path / 'out.json'
    out.write_text('keep me')
    assert convert(SRC, out, '--spec', SPEC) == 1
    assert 'pass --force' in capsys.readouterr().err
    assert out.read_text() == 'keep me'
    assert convert(SRC, out, '--spec', SPEC, '--force') == 0
    assert len(json.loads(out.read_text())['annotations']) == 5


def broken_folder(tmp_path):
    """The fixture folder plus files with one defect each."""
    src = tmp_path / 'src'
    shutil.copytree(SRC, src)
    shape = dict(group_id=None, description='', flags={})
    defects = {
        'value': [
            dict(
                shape,
                label='car|color=purple',
                shape_type='polygon',
                points=[[1, 1], [9, 1], [9, 9]],
            )
        ],
        'kind': [
            dict(
                shape,
                label='car',
                shape_type='ellipse',
                points=[[1, 1], [9, 9]],
            )
        ],
        'conflict': [
            dict(
                shape,
                label='car|color=red',
                shape_type='polygon',
                points=[[1, 1], [9, 1], [9, 9]],
                flags={'color=blue': True},
            )
        ],
        'category': [
            dict(
                shape,
                label='tram',
                shape_type='rectangle',
                points=[[1, 1], [9, 9]],
            )
        ],
    }
    for name, shapes in defects.items():
        write_labelme(str(src), name, shapes, size=(20, 20))
    (src / 'syntax.json').write_text('{\n "shapes": [\n}\n')
    return src


def test_defects_are_reported_with_their_file(tmp_path, capsys):
    src = broken_folder(tmp_path)
    out = tmp_path / 'out.json'
    assert convert(src, out, '--spec', SPEC) == 1
    err = capsys.readouterr().err
    assert not out.exists()
    expected = [
        f'{src / "value.json"}: shape 0 (label \'car|color=purple\'): group '
        '"color": undeclared value \'purple\'',
        f'{src / "kind.json"}: shape 0 (label \'car\'): shape_type '
        '"ellipse" is not supported',
        f'{src / "conflict.json"}: instance "car": single-label group '
        '"color" got several values [\'red\', \'blue\']',
        f'{src / "category.json"}: shape 0 (label \'tram\'): undeclared '
        'category "tram"',
        f'{src / "syntax.json"}:3:1: invalid JSON',
    ]
    for message in expected:
        assert message in err, err
    assert '5 defect(s) in 5 file(s); nothing written' in err

    # --skip-invalid writes the good files and still lists the bad ones.
    assert convert(src, out, '--spec', SPEC, '--skip-invalid') == 0
    captured = capsys.readouterr()
    assert expected[0] in captured.err
    assert 'skipped 5 file(s)' in captured.out
    coco = json.loads(out.read_text())
    assert [i['file_name'] for i in coco['images']] == [
        'img1.png',
        'sub/img2.png',
    ]


def test_categories_are_inferred_when_undeclared(tmp_path):
    out = tmp_path / 'out.json'
    assert (
        convert(
            SRC,
            out,
            '--group',
            'color=red,green,blue',
            '--group',
            'damage=dent,scratch',
            '--multi-label',
            'damage',
        )
        == 0
    )
    coco = json.loads(out.read_text())
    assert coco['categories'] == [
        dict(id=1, name='bus'),
        dict(id=2, name='car'),
    ]


def test_undeclared_group_is_a_defect(tmp_path, capsys):
    assert convert(SRC, tmp_path / 'out.json', '--classes', 'car', 'bus') == 1
    assert 'undeclared attribute group "color"' in capsys.readouterr().err


@pytest.mark.parametrize(
    'label,expected',
    [
        ('car', ('car', {})),
        (' car | color = red ', ('car', dict(color=['red']))),
        (
            'bus|damage=dent,scratch|damage=',
            ('bus', dict(damage=['dent', 'scratch'])),
        ),
        ('bus|damage=', ('bus', dict(damage=[]))),
    ],
)
def test_parse_label(label, expected):
    assert parse_label(label) == expected


@pytest.mark.parametrize('label', ['|color=red', 'car|red', 'car|=red'])
def test_parse_label_rejects(label):
    with pytest.raises(LabelmeError):
        parse_label(label)
