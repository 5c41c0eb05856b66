"""The four attribute forms load to the same labels; JSON errors locate."""

import copy
import json
import os.path as osp

import pytest
from attr_data_utils import DATA
from mmdet.registry import DATASETS

from mmmultilabel.datasets import (
    AnnotationDefectError,
    AnnotationSyntaxError,
    detect_format,
    load_attr_coco,
)
from mmmultilabel.utils import expand_runs

FORMATS = osp.join(DATA, 'formats')
MULTI_GROUPS = [
    dict(name='color', values=['red', 'blue'], multi_label=True),
    dict(name='damage', values=['dent', 'scratch'], multi_label=True),
]
# Rows [red, blue, dent, scratch] of annotations 1..4 in every multi form.
MULTI_ROWS = [[1, 0, 0, 1], [0, 0, 0, 0], [-1, -1, -1, -1], [0, 0, 1, 0]]


def build(ann_file, **kwargs):
    return DATASETS.build(
        dict(type='AttrCocoDataset', ann_file=ann_file, pipeline=[], **kwargs)
    )


def rows(dataset):
    out = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        runs = [inst['attr_runs'] for inst in info['instances']]
        out += expand_runs(runs, info['num_attr_columns']).tolist()
    return out


def read(name):
    with open(osp.join(FORMATS, f'{name}.json')) as f:
        return json.load(f)


@pytest.mark.parametrize(
    'name,form',
    [
        ('attr_coco', 'attr_coco'),
        ('fashionpedia', 'fashionpedia'),
        ('paco', 'paco'),
    ],
)
def test_multi_label_forms_load_to_same_labels(name, form):
    path = osp.join(FORMATS, f'{name}.json')
    assert detect_format(read(name)) == form
    dataset = build(path)
    assert dataset.metainfo['attribute_groups'] == MULTI_GROUPS
    assert dataset.metainfo['classes'] == ('car', 'bus')
    assert rows(dataset) == MULTI_ROWS
    # The canonical dict names values and drops the foreign keys.
    data = load_attr_coco(path)
    assert data['annotations'][0]['attributes'] == dict(
        color=['red'], damage=['scratch']
    )
    assert data['annotations'][3]['attributes']['damage'] == ['dent']
    for key in ('attributes', 'subcats', 'attr_type_to_attr_idxs'):
        assert key not in data
    for ann in data['annotations']:
        assert 'attribute_ids' not in ann and 'unknown_color' not in ann


def test_subcat_form_matches_its_canonical_twin():
    subcat = read('subcat')
    twin = copy.deepcopy(subcat)
    del twin['subcats']
    twin['attribute_groups'] = [dict(name='subcat', values=['sedan', 'suv'])]
    for ann in twin['annotations']:
        sid = ann.pop('subcat_id', None)
        if sid is not None:
            ann['attributes'] = dict(subcat=sid - 10)  # as an index
    assert detect_format(subcat) == 'subcat'
    assert load_attr_coco(subcat) == load_attr_coco(twin)
    dataset = build(osp.join(FORMATS, 'subcat.json'))
    assert rows(dataset) == [[1], [-1], [-1], [0]]
    assert dataset.metainfo['attribute_groups'] == [
        dict(name='subcat', values=['sedan', 'suv'], multi_label=False)
    ]


def test_paco_unknown_flag_makes_only_that_group_unknown():
    paco = read('paco')
    paco['annotations'][0]['unknown_damage'] = 1
    data = load_attr_coco(paco)
    assert data['annotations'][0]['attributes'] == dict(color=['red'])


@pytest.mark.parametrize(
    'name,edit,message',
    [
        (
            'fashionpedia',
            lambda d: d['annotations'][0]['attribute_ids'].append(99),
            'annotation id=1 (image id=1): field "attribute_ids": '
            'attribute id 99 is not declared in the top-level "attributes"',
        ),
        (
            'fashionpedia',
            lambda d: d['attributes'][0].pop('supercategory'),
            'attribute id=11: field "supercategory": missing',
        ),
        (
            'paco',
            lambda d: d['attr_type_to_attr_idxs']['damage'].remove(3),
            'annotation id=1 (image id=1): field "attribute_ids": '
            'attribute id 3 is in no group',
        ),
        (
            'subcat',
            lambda d: d['annotations'][0].update(subcat_id=7),
            'annotation id=1 (image id=1): field "subcat_id": subcat id 7 '
            'is not declared in the top-level "subcats"',
        ),
        (
            'attr_coco',
            lambda d: d.update(subcats=[]),
            'top level: the file mixes attribute forms',
        ),
    ],
)
def test_foreign_form_defects_are_named(name, edit, message, tmp_path):
    data = read(name)
    edit(data)
    path = tmp_path / 'ann.json'
    path.write_text(json.dumps(data))
    with pytest.raises(AnnotationDefectError) as info:
        load_attr_coco(str(path))
    assert str(path) in str(info.value)
    assert any(message in d for d in info.value.defects), info.value.defects


def test_json_syntax_error_reports_file_line_column(tmp_path):
    path = tmp_path / 'broken.json'
    # A missing comma after the "images" list: line 3, column 3.
    path.write_text('{\n  "images": []\n  "annotations": []\n}\n')
    with pytest.raises(AnnotationSyntaxError) as info:
        load_attr_coco(str(path))
    assert str(info.value).startswith(f'{path}:3:3: invalid JSON: Expecting')
    assert (info.value.lineno, info.value.colno) == (3, 3)
    with pytest.raises(AnnotationSyntaxError):
        build(str(path))


def test_load_accepts_backend_args():
    path = osp.join(FORMATS, 'attr_coco.json')
    data = load_attr_coco(path, backend_args=dict(backend='local'))
    assert len(data['annotations']) == 4
