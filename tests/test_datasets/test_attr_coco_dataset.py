"""AttrCocoDataset built from config dicts as a user would."""

import json

import pytest
from attr_data_utils import CLASSES, EXPECTED_ROWS, GROUPS, dataset_cfg
from mmdet.registry import DATASETS

from mmmultilabel.datasets import AnnotationDefectError
from mmmultilabel.utils import expand_runs


def instances(dataset):
    """Instances of every data info, with their compact attribute row
    expanded to ``attr_labels`` (what LoadAttrAnnotations gives)."""
    out = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        for inst in info['instances']:
            (row,) = expand_runs([inst['attr_runs']], info['num_attr_columns'])
            out.append(dict(inst, attr_labels=row.tolist()))
    return out


def test_metainfo_and_rows_from_the_file(five_instances):
    dataset = DATASETS.build(dataset_cfg(five_instances, []))
    meta = dataset.metainfo
    assert meta['classes'] == CLASSES
    assert meta['attribute_groups'] == GROUPS
    assert all(type(g) is dict for g in meta['attribute_groups'])
    insts = instances(dataset)
    assert [i['bbox_label'] for i in insts] == [0, 1, 2, 3, 4]
    assert {i['bbox_label']: i['attr_labels'] for i in insts} == EXPECTED_ROWS
    assert dataset.get_data_info(0)['num_attr_columns'] == 3
    assert len(dataset) == 2  # the image without instances is kept


@pytest.mark.parametrize('serialize_data', [True, False])
@pytest.mark.parametrize('lazy_init', [True, False])
def test_serialize_and_lazy_init(five_instances, serialize_data, lazy_init):
    dataset = DATASETS.build(
        dataset_cfg(
            five_instances,
            [],
            serialize_data=serialize_data,
            lazy_init=lazy_init,
        )
    )
    assert dataset._fully_initialized is not lazy_init
    # metainfo is complete before the annotations are parsed.
    assert dataset.metainfo['classes'] == CLASSES
    assert dataset.metainfo['attribute_groups'] == GROUPS
    rows = {i['bbox_label']: i['attr_labels'] for i in instances(dataset)}
    assert rows == EXPECTED_ROWS


def test_filter_cfg_drops_images_without_instances(five_instances):
    dataset = DATASETS.build(
        dataset_cfg(five_instances, [], filter_cfg=dict(filter_empty_gt=True))
    )
    assert len(dataset) == 1
    assert dataset.get_data_info(0)['img_path'].endswith('five.png')
    test_mode = DATASETS.build(
        dataset_cfg(
            five_instances,
            [],
            filter_cfg=dict(filter_empty_gt=True),
            test_mode=True,
        )
    )
    assert len(test_mode) == 2


def test_config_metainfo_selects_classes_and_groups(five_instances):
    metainfo = dict(
        classes=('e', 'b'),
        attribute_groups=[
            dict(
                name='pattern', values=['dotted', 'striped'], multi_label=True
            ),
        ],
    )
    dataset = DATASETS.build(
        dataset_cfg(five_instances, [], metainfo=metainfo)
    )
    assert dataset.metainfo['classes'] == ('e', 'b')
    assert dataset.metainfo['attribute_groups'] == metainfo['attribute_groups']
    got = [(i['bbox_label'], i['attr_labels']) for i in instances(dataset)]
    # b: striped -> [dotted=0, striped=1]; e: dotted -> [1, 0]
    assert got == [(1, [0, 1]), (0, [1, 0])]


def test_config_groups_from_an_annotation_file(five_instances):
    metainfo = dict(attribute_groups=five_instances['ann_file'])
    dataset = DATASETS.build(
        dataset_cfg(five_instances, [], metainfo=metainfo)
    )
    assert dataset.metainfo['attribute_groups'] == GROUPS


@pytest.mark.parametrize(
    'metainfo,message',
    [
        (
            dict(attribute_groups=[dict(name='shape', values=['x'])]),
            'metainfo: attribute group "shape" is not in the file',
        ),
        (
            dict(attribute_groups=[dict(name='color', values=['red'])]),
            'annotation id=2 (image id=2): field "attributes" does not fit '
            'metainfo["attribute_groups"] of the config: group "color": '
            "undeclared value 'green'",
        ),
        (
            dict(classes=('a', 'z')),
            "metainfo: classes ['z'] are not categories of the file",
        ),
    ],
)
def test_config_metainfo_mismatch_is_an_error(
    five_instances, metainfo, message
):
    with pytest.raises(AnnotationDefectError) as info:
        DATASETS.build(dataset_cfg(five_instances, [], metainfo=metainfo))
    assert five_instances['ann_file'] in str(info.value)
    assert message in str(info.value)


def test_defects_on_load_are_listed_together(five_instances, tmp_path):
    with open(five_instances['ann_file']) as f:
        data = json.load(f)
    data['annotations'][0]['attributes']['color'] = 'purple'
    data['annotations'][2]['category_id'] = 99
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(data))
    cfg = dataset_cfg(five_instances, [])
    cfg['ann_file'] = str(path)
    with pytest.raises(AnnotationDefectError) as info:
        DATASETS.build(cfg)
    text = str(info.value)
    assert text.startswith(f'{path}: 2 annotation defect(s)')
    assert 'annotation id=1 (image id=2): field "attributes.color"' in text
    assert 'annotation id=3 (image id=2): field "category_id"' in text
    assert 'tools/misc/validate_dataset.py' in text


@pytest.mark.parametrize('value', [True, 1.0])
def test_unvalidated_value_that_is_no_name_or_index(
    five_instances, tmp_path, value
):
    # Without validation the data set encodes the file as it is; a value
    # that is neither a value name nor an int index is still an error
    # (True and 1.0 are equal to the index 1 but are neither).
    with open(five_instances['ann_file']) as f:
        data = json.load(f)
    data['annotations'][0]['attributes']['color'] = value
    path = tmp_path / 'bad.json'
    path.write_text(json.dumps(data))
    cfg = dataset_cfg(five_instances, [], validate='never')
    cfg['ann_file'] = str(path)
    with pytest.raises(AnnotationDefectError) as info:
        DATASETS.build(cfg)
    assert 'annotation id=1 (image id=2): field "attributes"' in str(
        info.value
    )
    assert 'group "color": ' in str(info.value)


def test_backend_args_reach_the_file_backend(five_instances):
    dataset = DATASETS.build(
        dataset_cfg(five_instances, [], backend_args=dict(backend='local'))
    )
    assert len(instances(dataset)) == 5


def test_group_limited_to_some_categories(five_instances, tmp_path):
    with open(five_instances['ann_file']) as f:
        data = json.load(f)
    cats = {c['id']: c['name'] for c in data['categories']}
    first = data['attribute_groups'][0]
    owners = sorted(
        {
            cats[a['category_id']]
            for a in data['annotations']
            if a.get('attributes', {}).get(first['name']) is not None
        }
    )
    first['categories'] = owners
    path = tmp_path / 'limited.json'
    path.write_text(json.dumps(data))
    cfg = dataset_cfg(dict(five_instances, ann_file=str(path)), [])
    dataset = DATASETS.build(cfg)
    assert dataset.metainfo['attribute_groups'][0]['categories'] == owners
    assert {
        i['bbox_label']: i['attr_labels'] for i in instances(dataset)
    } == EXPECTED_ROWS
    # a config that declares the group for every category does not match
    with pytest.raises(
        AnnotationDefectError, match='applies to categories all'
    ):
        DATASETS.build(dict(cfg, metainfo=dict(attribute_groups=GROUPS)))
