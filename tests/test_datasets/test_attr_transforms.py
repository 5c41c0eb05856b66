"""Attribute rows stay aligned with instances through mmdet's transforms."""

import copy
import json
import pickle
import random

import numpy as np
import pytest
import torch
from attr_data_utils import EXPECTED_ROWS, dataset_cfg
from mmdet.registry import DATASETS, TRANSFORMS

from mmmultilabel.datasets import AlignedLabels, AttrAlignmentError

LOAD = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
]
PACK = [dict(type='PackAttrDetInputs')]
LSJ = [
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomResize',
        scale=(100, 100),
        ratio_range=(0.5, 2.0),
        resize_type='Resize',
        keep_ratio=True,
    ),
    dict(
        type='RandomCrop',
        crop_size=(100, 100),
        crop_type='absolute',
        recompute_bbox=True,
        allow_negative_crop=True,
    ),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-5, 1e-5), by_mask=True),
]


def build(data, middle, **kwargs):
    kwargs.setdefault('filter_cfg', dict(filter_empty_gt=True))
    return DATASETS.build(dataset_cfg(data, LOAD + middle + PACK, **kwargs))


def sample_rows(dataset, idx=0, seed=0):
    """Labels, rows and mask count of one packed sample."""
    np.random.seed(seed)
    random.seed(seed)
    gt = dataset[idx]['data_samples'].gt_instances
    assert gt.attr_labels.dtype == torch.int64
    assert len(gt.masks) == len(gt.bboxes) == len(gt.labels)
    return gt.labels.tolist(), gt.attr_labels.tolist()


# -------------------------------------------------------------- AlignedLabels
def test_aligned_labels_index_copy_and_pickle():
    rows = np.arange(12).reshape(4, 3)
    labels = AlignedLabels([7, 8, 9, 10], dict(attr=rows))
    for index in (
        np.array([True, False, True, True]),
        np.array([3, 0]),
        slice(1, 3),
        np.array([], dtype=np.int64),
    ):
        sub = labels[index]
        assert isinstance(sub, AlignedLabels)
        np.testing.assert_array_equal(sub.plain(), labels.plain()[index])
        np.testing.assert_array_equal(sub.extras['attr'], rows[index])
    for twin in (
        pickle.loads(pickle.dumps(labels)),
        copy.deepcopy(labels),
        labels.copy(),
    ):
        assert type(twin) is AlignedLabels
        np.testing.assert_array_equal(twin.extras['attr'], rows)
        assert twin.extras['attr'] is not rows
    # Rebuilding instead of indexing drops the rows (detected on packing).
    assert not isinstance(np.concatenate([labels, labels]), AlignedLabels)
    assert labels.reshape(2, 2).extras is None
    with pytest.raises(ValueError, match='one row per instance'):
        AlignedLabels([1, 2], dict(attr=rows))


# ----------------------------------------------------------- the transforms
@pytest.mark.parametrize(
    'middle,expected_labels',
    [
        ([], [0, 1, 2, 3, 4]),
        ([dict(type='RandomFlip', prob=1.0)], [0, 1, 2, 3, 4]),
        (
            [dict(type='Resize', scale=(160, 80), keep_ratio=False)],
            [0, 1, 2, 3, 4],
        ),
        ([dict(type='Pad', size=(128, 128))], [0, 1, 2, 3, 4]),
        # Drops a (10x10) and d (12x40): width and height must exceed 15.
        ([dict(type='FilterAnnotations', min_gt_bbox_wh=(15, 15))], [1, 2, 4]),
    ],
    ids=['none', 'RandomFlip', 'Resize', 'Pad', 'FilterAnnotations'],
)
def test_deterministic_transforms(five_instances, middle, expected_labels):
    labels, rows = sample_rows(build(five_instances, middle))
    assert labels == expected_labels
    assert rows == [EXPECTED_ROWS[label] for label in labels]


@pytest.mark.parametrize(
    'middle',
    [
        [
            dict(
                type='RandomCrop', crop_size=(50, 50), allow_negative_crop=True
            )
        ],
        LSJ,
        [dict(type='MinIoURandomCrop')],
    ],
    ids=['RandomCrop', 'LSJ', 'MinIoURandomCrop'],
)
def test_random_crops_keep_rows_aligned(five_instances, middle):
    dataset = build(five_instances, middle)
    counts = set()
    for seed in range(12):
        labels, rows = sample_rows(dataset, seed=seed)
        assert rows == [EXPECTED_ROWS[label] for label in labels]
        counts.add(len(labels))
    # Some crops dropped instances: the subsetting path was exercised.
    assert min(counts) < 5


def test_ignored_instances_get_their_rows(five_instances, tmp_path):
    with open(five_instances['ann_file']) as f:
        data = json.load(f)
    data['annotations'][2]['iscrowd'] = 1  # instance c
    path = tmp_path / 'crowd.json'
    path.write_text(json.dumps(data))
    dataset = build(dict(five_instances, ann_file=str(path)), [])
    sample = dataset[0]['data_samples']
    assert sample.gt_instances.labels.tolist() == [0, 1, 3, 4]
    assert sample.gt_instances.attr_labels.tolist() == [
        EXPECTED_ROWS[i] for i in (0, 1, 3, 4)
    ]
    assert sample.ignored_instances.labels.tolist() == [2]
    assert sample.ignored_instances.attr_labels.tolist() == [EXPECTED_ROWS[2]]


def test_image_without_instances(five_instances):
    dataset = build(five_instances, [], filter_cfg=None)
    sample = dataset[0]['data_samples']
    assert sample.img_path.endswith('empty.png')
    assert tuple(sample.gt_instances.attr_labels.shape) == (0, 3)


def test_test_pipeline_without_annotations(five_instances):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=(64, 64), keep_ratio=True),
        dict(
            type='PackAttrDetInputs',
            meta_keys=(
                'img_id',
                'img_path',
                'ori_shape',
                'img_shape',
                'scale_factor',
            ),
        ),
    ]
    dataset = DATASETS.build(
        dataset_cfg(five_instances, pipeline, test_mode=True)
    )
    item = dataset[1]
    assert tuple(item['inputs'].shape) == (3, 64, 64)
    assert 'attr_labels' not in item['data_samples'].gt_instances


def test_rows_survive_pickling_mid_pipeline(five_instances):
    dataset = DATASETS.build(dataset_cfg(five_instances, LOAD))
    results = pickle.loads(pickle.dumps(dataset[1]))
    packed = TRANSFORMS.build(PACK[0])(results)
    gt = packed['data_samples'].gt_instances
    assert gt.attr_labels.tolist() == [EXPECTED_ROWS[i] for i in range(5)]


class ConcatInstances:
    """Stands for Mosaic/MixUp: rebuilds the labels by concatenation."""

    def __call__(self, results):
        results['gt_bboxes_labels'] = np.concatenate(
            [results['gt_bboxes_labels']]
        )
        return results


def test_lost_alignment_names_the_pipeline(five_instances):
    dataset = DATASETS.build(
        dataset_cfg(five_instances, LOAD + [ConcatInstances()] + PACK)
    )
    with pytest.raises(AttrAlignmentError) as info:
        dataset[1]
    text = str(info.value)
    assert 'lost their attribute rows' in text and 'Mosaic' in text
    assert (
        'Pipeline of AttrCocoDataset: LoadImageFromFile -> '
        'LoadAttrAnnotations -> ConcatInstances -> PackAttrDetInputs'
    ) in text


def test_plain_load_annotations_is_an_error(five_instances):
    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    ] + PACK
    dataset = DATASETS.build(dataset_cfg(five_instances, pipeline))
    with pytest.raises(AttrAlignmentError, match='LoadAttrAnnotations'):
        dataset[1]


def test_with_label_false_is_rejected():
    with pytest.raises(ValueError, match='with_label=True'):
        TRANSFORMS.build(dict(type='LoadAttrAnnotations', with_label=False))
