"""Every shipped config parses, builds its model, and scales its lr."""

import glob
import os.path as osp

import pytest
from mmdet.registry import MODELS
from mmengine.config import Config

from mmmultilabel.utils import AttributeSpec

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(
        osp.join(REPO, 'configs', 'mask2former-attr', '**', '*.py'),
        recursive=True,
    )
)
FASHIONPEDIA_SAMPLE = osp.join(
    REPO, 'tests', 'data', 'formats', 'fashionpedia.json'
)


def _load(path: str) -> Config:
    cfg = Config.fromfile(path)
    if cfg.attribute_groups == cfg.data_root + cfg.train_ann:
        # Groups read from the (absent) training file: use a sample file of
        # the same form.
        for head in ('panoptic_head', 'panoptic_fusion_head'):
            cfg.model[head].attribute_groups = FASHIONPEDIA_SAMPLE
    return cfg


def test_configs_found():
    names = {osp.basename(c) for c in CONFIGS}
    assert {
        'mask2former-attr_r18_1xb8-1500i_shapes.py',
        'mask2former-attr_r50_8xb2-lsj-50e_coco-attr.py',
        'mask2former-attr_r50_8xb2-amp-lsj-50e_coco-attr.py',
        'mask2former-attr_r50_8xb2-lsj-50e_fashionpedia.py',
    } | {
        f'mask2former-attr_r18_1xb8-1500i_{family}.py'
        for family in ('geometry', 'texture', 'clutter', 'partial', 'longtail')
    } <= names


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_attribute_model(path):
    cfg = _load(path)
    assert cfg.custom_imports.imports == ['mmmultilabel']
    assert cfg.auto_scale_lr == dict(enable=True, base_batch_size=16)
    assert cfg.train_dataloader.dataset.type == 'AttrCocoDataset'
    assert cfg.val_evaluator.type == 'AttrCocoMetric'
    model = MODELS.build(cfg.model)
    head = model.panoptic_head
    assert type(head).__name__ == 'AttrMask2FormerHead'
    assert head.num_classes == len(cfg.classes)
    assert len(head.attr_spec) > 0
    assert head.attr_spec == model.panoptic_fusion_head.attr_spec
    cost_types = {c['type'] for c in cfg.model.train_cfg.assigner.match_costs}
    assert {'AttrClassificationCost', 'AttrBinaryCrossEntropyCost'} <= (
        cost_types
    )


def test_fashionpedia_groups_come_from_supercategories():
    cfg = _load(
        CONFIGS[
            [osp.basename(c) for c in CONFIGS].index(
                'mask2former-attr_r50_8xb2-lsj-50e_fashionpedia.py'
            )
        ]
    )
    spec = AttributeSpec(cfg.model.panoptic_head.attribute_groups)
    assert spec.names == ['color', 'damage']
    assert all(g.multi_label for g in spec)
    assert cfg.model.panoptic_head.loss_attr_multi.type == 'AttrFocalLoss'


def test_amp_config_differs_only_by_the_optim_wrapper():
    def load(name):
        return Config.fromfile(
            osp.join(REPO, 'configs', 'mask2former-attr', name)
        )

    amp = load('mask2former-attr_r50_8xb2-amp-lsj-50e_coco-attr.py')
    base = load('mask2former-attr_r50_8xb2-lsj-50e_coco-attr.py')
    wrapper = amp.pop('optim_wrapper')
    base_wrapper = base.pop('optim_wrapper')
    assert wrapper.pop('type') == 'AmpOptimWrapper'
    assert wrapper.pop('loss_scale') == 'dynamic'
    assert base_wrapper.pop('type') == 'OptimWrapper'
    # optimizer, gradient clipping and parameter-wise settings are kept
    assert wrapper == base_wrapper
    assert amp.to_dict() == base.to_dict()
