"""Attribute classifiers that read the predicted mask: pooled mask features
(``attr_mask_features``) and mask statistics (``attr_mask_stats``)."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.runner.checkpoint import load_state_dict

from mmmultilabel.models.utils.mask_pooling import (
    mask_input_options,
    mask_pooled_features,
    mask_statistics,
)

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_pooled_features_by_hand():
    # one image, two queries, 1 x 2 pixels, two channels
    masks = torch.tensor([[[[0.0, 2.0]], [[-30.0, -30.0]]]])
    feats = torch.tensor([[[[1.0, 3.0]], [[-2.0, 4.0]]]])
    got = mask_pooled_features(masks, feats)
    eps = 2.0**-23  # float32's
    a, b = _sigmoid(0.0), _sigmoid(2.0)
    expected_q0 = [
        (a * 1 + b * 3) / (a + b + eps),
        (a * -2 + b * 4) / (a + b + eps),
    ]
    # a mask of almost no weight (2e-13 << eps): almost zeros
    e = _sigmoid(-30.0)
    expected_q1 = [4 * e / (2 * e + eps), 2 * e / (2 * e + eps)]
    torch.testing.assert_close(
        got, torch.tensor([[expected_q0, expected_q1]]), rtol=1e-5, atol=1e-9
    )


def test_mask_statistics_by_hand():
    # 4 x 6 grid: query 0 a 2-row, 4-column block, query 1 empty
    masks = torch.full((1, 2, 4, 6), -5.0)
    masks[0, 0, 1:3, 1:5] = 5.0
    got = mask_statistics(masks)
    area = (8 * _sigmoid(5) + 16 * _sigmoid(-5)) / 24
    expected = [
        [area, 4 / 6, 2 / 4, math.log(5 / 3)],
        [_sigmoid(-5), 0.0, 0.0, 0.0],
    ]
    torch.testing.assert_close(got, torch.tensor([expected]))


def _build(cfg, **options):
    cfg = copy.deepcopy(cfg)
    cfg['panoptic_head'].update(options)
    torch.manual_seed(0)
    return MODELS.build(cfg)


def _head_outputs(model, batch):
    """Per decoder output: attribute logits (B, Q, A), mask logits and the
    pixel decoder's mask features (B, c, h, w), in eval mode."""
    model.eval()
    data = model.data_preprocessor(copy.deepcopy(batch), False)
    head = model.panoptic_head
    with torch.no_grad():
        x = model.extract_feat(data['inputs'])
        cls_list, mask_list = head(x, data['data_samples'])
        mask_feature = head.pixel_decoder(x)[0]
    attrs = [head._split_logits(c)[1] for c in cls_list]
    return attrs, mask_list, mask_feature


def test_every_decoder_output_reads_its_own_mask(attr_model_cfg, make_batch):
    """The classifiers made to output one input column: the stats and pooled
    features of each decoder output's own masks, computed here."""
    model = _build(
        attr_model_cfg, attr_mask_features=True, attr_mask_stats=True
    )
    head = model.panoptic_head
    c = head.cls_embed.in_features
    c_mask = head.mask_embed[-1].out_features
    assert head.attr_embed.in_features == c + c_mask + 4
    with torch.no_grad():
        head.attr_embed.weight.zero_()
        head.attr_embed.bias.zero_()
        head.attr_embed.weight[0, c + 3] = 1.0  # output 0: pooled channel 3
        head.attr_embed.weight[1, c + c_mask] = 1.0  # output 1: area
        head.attr_embed.weight[2, c + c_mask + 3] = 1.0  # output 2: aspect
    attrs, masks, feature = _head_outputs(model, make_batch())
    assert len(attrs) == len(masks) == 3  # queries, then two decoder layers
    for attr, mask in zip(attrs, masks):
        weights = mask.sigmoid()
        # (B, Q, 1, h, w) * (B, 1, c, h, w) -> (B, Q, c)
        pooled = (weights[:, :, None] * feature[:, None]).sum((-1, -2))
        pooled = pooled / weights.sum((-1, -2))[..., None]
        normed = F.layer_norm(pooled, (c_mask,), eps=1e-5)
        torch.testing.assert_close(attr[..., 0], normed[..., 3])
        torch.testing.assert_close(attr[..., 1], weights.mean((-1, -2)))
        inside = mask > 0
        width = inside.any(-2).sum(-1).float()  # boxes of convex blobs:
        height = inside.any(-1).sum(-1).float()  # counts are extents here
        convex = width * height == inside.sum((-1, -2))
        aspect = torch.log((width + 1) / (height + 1))
        torch.testing.assert_close(attr[..., 2][convex], aspect[convex])


@pytest.mark.parametrize(
    'options',
    [
        dict(attr_mask_features=True),
        dict(attr_mask_stats=True),
        dict(
            attr_mask_features=True, attr_mask_stats=True, attr_head_layers=3
        ),
    ],
)
def test_one_training_step_and_prediction(attr_model_cfg, make_batch, options):
    model = _build(attr_model_cfg, **options)
    batch = make_batch()
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    losses = model(**data, mode='loss')
    attr_keys = [k for k in losses if 'loss_attr' in k]
    assert len(attr_keys) == 3 * 3  # 3 groups, 3 decoder outputs
    assert all(torch.isfinite(v).all() for v in losses.values())
    sum(losses[k] for k in attr_keys).backward()
    grads = {
        n: p.grad
        for n, p in model.named_parameters()
        if p.grad is not None and p.grad.abs().sum() > 0
    }
    head = 'panoptic_head.'
    assert (
        head + 'attr_embed.weight' in grads
        or head + 'attr_embed.0.weight' in (grads)
    )
    if options.get('attr_mask_features'):
        assert head + 'attr_pool_norm.weight' in grads
        # through the pooling, into the pixel decoder
        assert head + 'pixel_decoder.mask_feature.weight' in grads
    # the masks enter detached: the attribute losses do not shape them
    assert not [n for n in grads if n.startswith(head + 'mask_embed.')]
    model.eval()
    with torch.no_grad():
        results = model(
            **model.data_preprocessor(copy.deepcopy(batch), False),
            mode='predict',
        )
    pred = results[0].pred_instances
    assert pred.attr_labels.shape[0] == pred.labels.shape[0] > 0


def test_predict_runs_the_classifiers_on_the_last_output_only(
    attr_model_cfg, make_batch
):
    """``predict`` reads the last decoder output: its attribute logits are
    those of a full forward pass, and the classifiers run once, not once per
    decoder output."""
    model = _build(
        attr_model_cfg, attr_mask_features=True, attr_mask_stats=True
    )
    head = model.panoptic_head
    calls = []
    head.attr_embed.register_forward_hook(lambda *args: calls.append(1))
    attrs, _, _ = _head_outputs(model, make_batch())
    assert len(calls) == len(attrs) == 3
    data = model.data_preprocessor(copy.deepcopy(make_batch()), False)
    with torch.no_grad():
        x = model.extract_feat(data['inputs'])
        mask_cls, _ = head.predict(x, data['data_samples'])
    assert len(calls) == 3 + 1
    torch.testing.assert_close(head._split_logits(mask_cls)[1], attrs[-1])
    # and the next forward pass computes every output again
    attrs_again, _, _ = _head_outputs(model, make_batch())
    assert len(calls) == 3 + 1 + 3
    torch.testing.assert_close(attrs_again[-1], attrs[-1])


def test_mask_input_options_by_hand():
    # query 8 wide, pooled mask features 6 wide, statistics 4 wide
    assert mask_input_options(8, 8, 6) == [
        dict(attr_mask_features=False, attr_mask_stats=False)
    ]
    assert mask_input_options(12, 8, 6) == [
        dict(attr_mask_features=False, attr_mask_stats=True)
    ]
    assert mask_input_options(18, 8, 6) == [
        dict(attr_mask_features=True, attr_mask_stats=True)
    ]
    assert mask_input_options(9, 8, 6) == []


def test_weights_of_other_mask_inputs_are_refused(attr_model_cfg):
    """mmengine loads a size mismatch with a warning and leaves the layer
    untrained; the head refuses it and names the settings."""
    plain = _build(attr_model_cfg)
    masked = _build(attr_model_cfg, attr_mask_features=True)
    with pytest.raises(ValueError) as err:
        load_state_dict(masked, plain.state_dict())
    assert (
        'pass --cfg-options model.panoptic_head.attr_mask_features=False '
        'model.panoptic_head.attr_mask_stats=False' in str(err.value)
    )
    assert 'attr_mask_features=True, attr_mask_stats=False' in str(err.value)
    # the same settings load (the refusal is about the inputs only)
    load_state_dict(_build(attr_model_cfg), plain.state_dict())
