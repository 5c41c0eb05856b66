"""The metadata of an exported graph reads back as it was written."""

from mmmultilabel.deploy import ExportedModelInfo


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
