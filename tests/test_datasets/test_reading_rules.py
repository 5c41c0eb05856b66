"""Real files load as they are: the fields they leave out are read as the
COCO tools and PACO read them, and each rule is a warning, not an error."""

import contextlib
import copy
import importlib.util
import io
import json
import logging
import os.path as osp

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from attr_data_utils import REPO
from mmdet.registry import DATASETS, METRICS
from mmengine.logging import MMLogger
from pycocotools.coco import COCO

from mmmultilabel.datasets import (
    AnnotationDefectError,
    check_attr_coco,
    load_attr_coco,
    validate_attr_coco,
)
from mmmultilabel.evaluation import load_attr_coco_api
from mmmultilabel.utils import AttributeSpec, expand_runs


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'validate_dataset_rules',
        osp.join(REPO, 'tools', 'misc', 'validate_dataset.py'),
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALIDATE = load_tool()


def square(x, y, w, h):
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def fashionpedia():
    """Fashionpedia's form without ``bbox``, as its published sample."""
    return dict(
        images=[dict(id=1, file_name='a.jpg', height=20, width=30)],
        categories=[dict(id=0, name='shirt'), dict(id=1, name='sleeve')],
        attributes=[
            dict(id=5, name='plain', supercategory='textile pattern'),
            dict(id=7, name='floral', supercategory='textile pattern'),
        ],
        annotations=[
            # a square, a triangle, and two squares as one mask
            dict(
                id=1,
                image_id=1,
                category_id=0,
                segmentation=square(2, 2, 10, 8),
                area=80.0,
                iscrowd=0,
                attribute_ids=[5],
            ),
            dict(
                id=2,
                image_id=1,
                category_id=1,
                segmentation=[[3.5, 12.2, 17.8, 12.2, 3.5, 19.6]],
                area=53.0,
                iscrowd=0,
                attribute_ids=[],
            ),
            dict(
                id=3,
                image_id=1,
                category_id=1,
                segmentation=square(2, 2, 4, 4) + square(20, 10, 4, 4),
                area=32.0,
                iscrowd=0,
                attribute_ids=[7],
            ),
        ],
    )


def paco():
    """PACO's form: no ``iscrowd``, federated fields, unknown flags, parts
    (``obj:part``) and an annotation without a mask (as in PACO-EGO4D)."""
    flags = dict(unknown_color=0, unknown_material=0)
    return dict(
        images=[
            dict(
                id=1,
                file_name='a.jpg',
                height=20,
                width=30,
                neg_category_ids=[],
                not_exhaustive_category_ids=[1],
                neg_category_ids_attrs=[],
                not_exhaustive_category_ids_attrs=[3],
            )
        ],
        categories=[dict(id=1, name='mug'), dict(id=2, name='mug:handle')],
        attributes=[
            dict(id=0, name='red'),
            dict(id=1, name='blue'),
            dict(id=2, name='wood'),
            dict(id=3, name='metal'),
        ],
        attr_type_to_attr_idxs=dict(color=[0, 1], material=[2, 3]),
        annotations=[
            dict(
                id=1,
                image_id=1,
                category_id=1,
                bbox=[2, 2, 10, 8],
                area=80,
                segmentation=square(2, 2, 10, 8),
                attribute_ids=[0, 2],
                **flags,
            ),
            # "metal" listed while the material is flagged unknown
            dict(
                id=2,
                image_id=1,
                category_id=2,
                bbox=[14, 4, 6, 6],
                area=36,
                segmentation=square(14, 4, 6, 6),
                attribute_ids=[1, 3],
                **dict(flags, unknown_material=1),
            ),
            dict(
                id=3,
                image_id=1,
                category_id=1,
                bbox=[20, 12, 5, 5],
                area=25,
                segmentation=[],
                attribute_ids=[],
                **flags,
            ),
        ],
    )


def write(tmp_path, data, name='ann.json'):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


# ---------------------------------------------------------- bbox, iscrowd
def test_bbox_from_the_mask_is_pycocotools_tobbox(tmp_path):
    data = fashionpedia()
    # pycocotools' own route: COCO.annToRLE (frPyObjects + merge), toBbox
    coco = COCO()
    coco.dataset = copy.deepcopy(data)
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
    expected = [
        mask_utils.toBbox(coco.annToRLE(a)).tolist()
        for a in data['annotations']
    ]
    # by hand: pixels x 2..11, y 2..9; the triangle's pixels; both squares
    assert expected[0] == [2.0, 2.0, 10.0, 8.0]
    assert expected[2] == [2.0, 2.0, 22.0, 12.0]
    warnings = []
    got = load_attr_coco(write(tmp_path, data), warnings=warnings)
    assert [a['bbox'] for a in got['annotations']] == expected
    assert (
        'top level: field "bbox": missing on 3 annotation(s) (ids 1, 2, 3); '
        'taken from their masks as pycocotools does (maskUtils.toBbox)'
    ) in warnings
    assert validate_attr_coco(data) == []


def test_bbox_from_rle_masks():
    data = fashionpedia()
    # uncompressed RLE of a 20x30 mask: column-major, pixels 45..47 are
    # column 2, rows 5..7
    data['annotations'][0]['segmentation'] = dict(
        size=[20, 30], counts=[45, 3, 600 - 48]
    )
    hand = np.zeros((20, 30), np.uint8)
    hand[3:5, 7:12] = 1
    rle = mask_utils.encode(np.asfortranarray(hand))
    data['annotations'][1]['segmentation'] = dict(
        size=[20, 30], counts=rle['counts'].decode()
    )
    got = load_attr_coco(data)['annotations']
    assert got[0]['bbox'] == [2.0, 5.0, 1.0, 3.0]
    assert got[1]['bbox'] == [7.0, 3.0, 5.0, 2.0]


def test_bbox_that_cannot_be_taken_is_an_error():
    data = fashionpedia()
    empty = mask_utils.encode(np.zeros((20, 30), np.uint8, order='F'))
    data['annotations'][0]['segmentation'] = dict(
        size=[20, 30], counts=empty['counts'].decode()
    )
    defects = validate_attr_coco(data)
    assert len(defects) == 1
    assert defects[0].startswith(
        'annotation id=1 (image id=1): field "bbox": missing, and it cannot '
        'be taken from the mask'
    )


def test_missing_iscrowd_is_zero():
    data = paco()
    warnings = []
    got = load_attr_coco(data, warnings=warnings)
    assert [a['iscrowd'] for a in got['annotations']] == [0, 0]
    assert (
        'top level: field "iscrowd": missing on 2 annotation(s) (ids 1, 2); '
        'read as 0 (not a crowd region)'
    ) in warnings
    assert 'iscrowd' not in data['annotations'][0]  # the input is untouched


# ------------------------------------------------ annotations without mask
def test_annotations_without_mask_are_skipped_and_counted():
    warnings = []
    canonical, defects = check_attr_coco(paco(), warnings=warnings)
    assert defects == []
    assert [a['id'] for a in canonical['annotations']] == [1, 2]
    assert (
        'top level: field "annotations": skipped 1 annotation(s) without a '
        'mask (ids 3) in a data set of masks, as PACO does; give them a '
        'polygon or RLE "segmentation" to use them'
    ) in warnings


def test_box_only_data_set_keeps_every_annotation():
    data = paco()
    for ann in data['annotations']:
        ann['segmentation'] = []
    warnings = []
    got = load_attr_coco(data, warnings=warnings)
    assert [a['id'] for a in got['annotations']] == [1, 2, 3]
    assert not any('without a mask' in w for w in warnings)


def test_paco_annotation_of_area_zero_is_skipped_and_counted():
    data = paco()
    data['annotations'][0]['area'] = 0
    warnings = []
    canonical, defects = check_attr_coco(data, warnings=warnings)
    assert defects == []
    assert [a['id'] for a in canonical['annotations']] == [2]
    assert any(
        w.startswith(
            'top level: field "area": skipped 1 annotation(s) of '
            'area 0 (ids 1)'
        )
        for w in warnings
    ), warnings


def test_area_zero_outside_paco_stays_an_error():
    data = fashionpedia()
    data['annotations'][0]['area'] = 0
    _, defects = check_attr_coco(data)
    assert any(
        'field "area": expected a positive number' in d for d in defects
    ), defects


# --------------------------------------------------------------- PACO rules
def test_value_listed_under_an_unknown_type_is_read_as_paco_reads_it():
    warnings = []
    got = load_attr_coco(paco(), warnings=warnings)
    ann = got['annotations'][1]
    assert ann['attributes'] == dict(color=['blue'])
    assert ann['partial_attributes'] == dict(material=['metal'])
    assert (
        'top level: field "attribute_ids": 1 annotation(s) (ids 2) list '
        'values of type "material" while flagged "unknown_material": 1; '
        'read as PACO reads them: the listed values present, the other '
        'values of "material" unknown (kept in "partial_attributes")'
    ) in warnings


def test_federated_fields_survive_on_images(tmp_path):
    data = paco()
    got = load_attr_coco(data)
    assert got['images'] == data['images']
    # ... with the attribute ids that their "*_attrs" versions refer to
    assert got['attribute_id_map'] == [
        dict(id=0, group='color', value='red'),
        dict(id=1, group='color', value='blue'),
        dict(id=2, group='material', value='wood'),
        dict(id=3, group='material', value='metal'),
    ]
    api = load_attr_coco_api(write(tmp_path, data))
    assert api.imgs[1]['not_exhaustive_category_ids'] == [1]
    assert api.imgs[1]['not_exhaustive_category_ids_attrs'] == [3]


@pytest.mark.parametrize(
    'edit,message',
    [
        (
            lambda d: d['annotations'][0].update(colour_name='red'),
            'top level: field "annotations[].colour_name": unknown field on '
            '1 annotations entry (ids 1); kept but not read',
        ),
        (
            lambda d: d.update(my_notes='x'),
            'top level: field "my_notes": not a field of the paco form; '
            'kept but not read',
        ),
        (
            lambda d: d['annotations'][0].pop('unknown_material'),
            'top level: field "unknown_material": missing on 1 '
            'annotation(s) (ids 1); read as 0 (type "material" known)',
        ),
        (
            lambda d: d['annotations'][1].update(unknown_shape=1),
            'top level: field "unknown_shape": on 1 annotation(s) (ids 2) '
            'but "shape" is no attribute type of "attr_type_to_attr_idxs" '
            "(types: ['color', 'material']); the flag is not read",
        ),
        (
            lambda d: d['images'][0].update(neg_category_ids=[7]),
            'top level: field "images[].neg_category_ids": 1 image(s) (ids '
            '1) list category ids that are not in "categories"',
        ),
    ],
)
def test_unread_fields_are_warnings_naming_them(edit, message):
    data = paco()
    edit(data)
    warnings = []
    assert validate_attr_coco(data, warnings=warnings) == []
    assert any(w.startswith(message) for w in warnings), warnings


def test_attribute_id_map_round_trip(tmp_path):
    data = fashionpedia()
    got = load_attr_coco(data)
    assert got['attribute_id_map'] == [
        dict(id=5, group='textile pattern', value='plain'),
        dict(id=7, group='textile pattern', value='floral'),
    ]
    # the canonical dict validates as it is, and a wrong entry is an error
    assert validate_attr_coco(got) == []
    got['attribute_id_map'][1]['value'] = 'dotted'
    assert validate_attr_coco(got) == [
        'top level: field "attribute_id_map[1]": \'textile pattern\'='
        "'dotted' is not a declared group and value"
    ]


def test_federated_field_of_the_wrong_type_is_an_error():
    data = paco()
    data['images'][0]['neg_category_ids'] = 'none'
    assert validate_attr_coco(data) == [
        'image id=1 ("a.jpg"): field "neg_category_ids": expected a list of '
        "integer ids (LVIS federated field), got 'none'"
    ]


# ---------------------------------------------------------------- dataset
def test_dataset_trains_on_paco_rows_and_logs_warnings(tmp_path):
    path = write(tmp_path, paco())
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler(level=logging.WARNING)
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        dataset = DATASETS.build(
            dict(type='AttrCocoDataset', ann_file=path, pipeline=[])
        )
        info = dataset.get_data_info(0)
    finally:
        logger.removeHandler(handler)
    logged = [r.getMessage() for r in records]
    assert any(
        m.startswith(f'{path}: top level: field "annotations": skipped 1 ')
        for m in logged
    ), logged
    # columns [red, blue | wood, metal]; by hand from the file
    runs = [i['attr_runs'] for i in info['instances']]
    assert expand_runs(runs, info['num_attr_columns']).tolist() == [
        [1, 0, 1, 0],
        [0, 1, -1, 1],  # material: "metal" listed, the rest unknown
    ]
    assert [i['ignore_flag'] for i in info['instances']] == [0, 0]
    assert info['not_exhaustive_category_ids'] == [1]
    assert info['neg_category_ids_attrs'] == []


def test_dataset_raises_errors_only(tmp_path):
    data = paco()
    data['annotations'][0]['category_id'] = 9
    with pytest.raises(AnnotationDefectError, match='unknown category id 9'):
        DATASETS.build(
            dict(
                type='AttrCocoDataset',
                ann_file=write(tmp_path, data),
                pipeline=[],
            )
        )


def test_metric_with_ann_file_without_iscrowd_or_bbox(tmp_path):
    """A perfect prediction of ground truth that has neither ``iscrowd``
    nor ``bbox`` scores AP 1 (it used to stop with ``KeyError``)."""
    data = paco()
    for ann in data['annotations']:
        del ann['bbox']
    path = write(tmp_path, data)
    spec = AttributeSpec(load_attr_coco(path)['attribute_groups'])
    gt = [a for a in data['annotations'] if a['segmentation']]
    masks = np.stack(
        [
            mask_utils.decode(
                mask_utils.merge(
                    mask_utils.frPyObjects(a['segmentation'], 20, 30)
                )
            )
            for a in gt
        ]
    ).astype(bool)
    pred = dict(
        bboxes=torch.tensor(
            [[2, 2, 12, 10], [14, 4, 20, 10]], dtype=torch.float
        ),
        scores=torch.tensor([0.9, 0.8]),
        labels=torch.tensor([0, 1]),
        masks=torch.from_numpy(masks),
        attr_labels=torch.tensor([[1, 0, 1, 0], [0, 1, 0, 1]]),
        attr_scores=torch.tensor([[1.0, 0, 1, 0], [0, 1, 0, 1]]),
    )
    metric = METRICS.build(dict(type='AttrCocoMetric', ann_file=path))
    metric.dataset_meta = dict(
        classes=('mug', 'mug:handle'), attribute_groups=spec.to_list()
    )
    metric.process(
        {}, [dict(img_id=1, ori_shape=(20, 30), pred_instances=pred)]
    )
    metrics = metric.evaluate(size=1)
    assert metrics['coco/segm_mAP'] == pytest.approx(1.0)


# ------------------------------------------------------ validate_dataset.py
def test_cli_warnings_exit_zero_errors_exit_one(tmp_path, capsys):
    path = write(tmp_path, paco())
    assert VALIDATE.main([path]) == 0
    out = capsys.readouterr().out
    lines = out.rstrip().splitlines()
    assert lines[-1] == (
        f'{path}: OK (paco form, 1 images, 2 annotations, 2 categories, '
        '2 attribute groups), 3 warning(s)'
    )
    assert sum(line.startswith(f'{path}: warning: ') for line in lines) == 3

    data = paco()
    data['annotations'][0]['category_id'] = 9
    path = write(tmp_path, data, 'bad.json')
    assert VALIDATE.main([path]) == 1
    out = capsys.readouterr().out
    assert f'{path}: annotation id=1 (image id=1): field "category_id"' in out
    assert out.rstrip().endswith(f'{path}: 1 defect(s), 3 warning(s)')


def test_cli_missing_file_names_it(tmp_path, capsys):
    path = str(tmp_path / 'nowhere.json')
    assert VALIDATE.main([path]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f'{path}: cannot read the file (')
    assert 'give the path of a JSON annotation file' in out
