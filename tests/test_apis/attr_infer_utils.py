"""Helpers of the inference tests: a tiny attribute Mask2Former config and
its checkpoint.

The model is mmdet's Mask2Former config shrunk by ``shrink_mask2former``
(``tests/conftest.py``) with the attribute head and fusion head swapped in;
its weights are the random initialisation (the tests check the output
format and the thresholds, not the quality of the predictions). The test
pipeline resizes to 64 pixels to keep the forward pass fast.
"""

import torch
from mmengine.config import Config

CLASSES = ('circle', 'square', 'triangle')
ATTRIBUTE_GROUPS = [
    dict(name='color', values=['red', 'green', 'blue'], multi_label=False),
    dict(name='size', values=['small', 'large'], multi_label=False),
    dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
]
DATASET_META = dict(
    classes=CLASSES,
    palette=[(220, 20, 60), (0, 128, 0), (0, 0, 255)],
    attribute_groups=ATTRIBUTE_GROUPS,
)


def attr_config(base: Config) -> Config:
    """The shrunk mmdet config turned into the attribute model."""
    cfg = base.copy()
    model = cfg.model
    model.panoptic_head.update(
        type='AttrMask2FormerHead', attribute_groups=ATTRIBUTE_GROUPS
    )
    model.train_cfg.assigner.match_costs = list(
        model.train_cfg.assigner.match_costs
    ) + [
        dict(type='AttrClassificationCost', weight=1.0),
        dict(type='AttrBinaryCrossEntropyCost', weight=1.0),
    ]
    model.panoptic_fusion_head.update(
        type='AttrMaskFormerFusionHead', attribute_groups=ATTRIBUTE_GROUPS
    )
    cfg.test_dataloader.dataset.pipeline = [
        dict(type='LoadImageFromFile', to_float32=True),
        dict(type='Resize', scale=(64, 64), keep_ratio=True),
        dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
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
    cfg.test_dataloader.dataset.metainfo = dict(classes=CLASSES)
    cfg.visualizer = dict(type='AttrDetLocalVisualizer', name='visualizer')
    return cfg


def save_checkpoint(model: torch.nn.Module, path: str) -> None:
    """Save ``model`` as mmengine does, with ``meta.dataset_meta``."""
    torch.save(
        dict(
            meta=dict(dataset_meta=DATASET_META),
            state_dict=model.state_dict(),
        ),
        path,
    )
