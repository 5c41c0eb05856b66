"""The metadata of an exported graph reads back as it was written."""

import logging

import pytest
from mmengine.logging import MMLogger

from mmmultilabel.deploy import ExportedModelInfo, MissingMetadataError


def test_every_value_round_trips():
    # a checkpoint without a palette gives the string 'random'
    info = ExportedModelInfo(
        classes=['circle', 'square'],
        attribute_groups=[
            dict(name='size', values=['small', 'large'], multi_label=False)
        ],
        palette='random',
        outputs=dict(cls_logits='cls_logits', attributes={}),
        postprocess=dict(score_mode='class', attr_value_thr=0.5),
        fusion_head=dict(type='AttrMaskFormerFusionHead'),
        preprocess=dict(mean=[1.0, 2.0, 3.0], pad_size_divisor=32),
        input_shape=[None, 3, None, None],
        config="model = dict(type='MaskFormer')\n",
        exporter='torch.onnx.export',
        opset=17,
        checkpoint='iter_1500.pth',
    )
    props = info.to_props()
    assert all(isinstance(v, str) for v in props.values())
    assert ExportedModelInfo.from_props(props, 'model.onnx') == info


def _info() -> ExportedModelInfo:
    return ExportedModelInfo(
        classes=['circle'],
        attribute_groups=[],
        palette='random',
        outputs=dict(cls_logits='cls_logits', attributes={}),
        postprocess={},
        fusion_head=dict(type='AttrMaskFormerFusionHead'),
        preprocess={},
        input_shape=[1, 3, 64, 64],
        config='',
        exporter='torch.onnx.export',
        opset=17,
        checkpoint='iter_1500.pth',
    )


def test_foreign_keys_are_named_and_bad_values_refused():
    props = dict(_info().to_props(), producer_note='optimised')
    # the warning goes through mmengine's logger: capture its records
    logger = MMLogger.get_current_instance()
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        assert ExportedModelInfo.from_props(props, 'm.onnx') == _info()
    finally:
        logger.removeHandler(handler)
    assert any("['producer_note']" in r.getMessage() for r in records)
    props = dict(_info().to_props(), classes='[circle')
    with pytest.raises(MissingMetadataError, match=r"m.onnx.*'classes'"):
        ExportedModelInfo.from_props(props, 'm.onnx')
