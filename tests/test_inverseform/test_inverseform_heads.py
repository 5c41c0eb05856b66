"""InverseFormLoss inside the shipped configs: an mmseg decode head and the
attribute Mask2Former's boundary term."""

import copy
import os.path as osp
from unittest import mock

import numpy as np
import pytest
import torch
import torch.distributed as dist
from inverseform_utils import REPO
from mmdet.registry import MODELS as MMDET_MODELS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.structures import InstanceData, PixelData
from mmseg.registry import MODELS as MMSEG_MODELS

import mmmultilabel.inverseform  # noqa: F401  (registers its modules)
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

CONFIGS = osp.join(REPO, 'configs', 'inverseform')
SEG_CFG = 'fpn-inverseform_r18-w32_1xb8-1k_shapes-semseg.py'
SEG_BASE_CFG = 'fpn_r18-w32_1xb8-1k_shapes-semseg.py'
M2F_CFG = 'mask2former-attr-inverseform_r18_1xb8-1500i_shapes.py'
# Odd sizes (H, W), padded to 96x96 by Mask2Former's data preprocessor.
IMAGE_SIZES = ((67, 83), (91, 75))


def load_cfg(name: str) -> Config:
    return Config.fromfile(osp.join(CONFIGS, name))


def test_seg_configs_differ_only_by_the_loss():
    with_if, base = load_cfg(SEG_CFG), load_cfg(SEG_BASE_CFG)
    losses = with_if.model.decode_head.pop('loss_decode')
    base_losses = base.model.decode_head.pop('loss_decode')
    assert [loss['type'] for loss in losses] == [
        base_losses['type'],
        'InverseFormLoss',
    ]
    assert with_if.model == base.model
    assert with_if.train_dataloader == base.train_dataloader


def seg_batch(num: int = 2, size: int = 64):
    from mmseg.structures import SegDataSample

    rng = np.random.RandomState(0)
    samples = []
    for _ in range(num):
        label = np.zeros((size, size), np.int64)
        x, y = rng.randint(8, 32, 2)
        label[y : y + 24, x : x + 20] = rng.randint(1, 4)
        sample = SegDataSample(
            metainfo=dict(img_shape=(size, size), pad_shape=(size, size))
        )
        sample.gt_sem_seg = PixelData(data=torch.from_numpy(label)[None])
        samples.append(sample)
    return torch.randn(num, 3, size, size), samples


def test_mmseg_decode_head_trains_with_inverseform(trained_ifnet):
    cfg = load_cfg(SEG_CFG)
    cfg.model.decode_head.loss_decode[1].checkpoint = trained_ifnet
    model = MMSEG_MODELS.build(cfg.model)
    inputs, samples = seg_batch()
    losses = model.loss(inputs, samples)
    assert {'decode.loss_ce', 'decode.loss_inverseform'} <= set(losses)
    assert losses['decode.loss_inverseform'] > 0
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0


def m2f_model_cfg(ifnet: str, loss_boundary: bool = True) -> dict:
    """The shipped attribute Mask2Former config with the boundary term,
    shrunk: 10 queries, 2 decoder layers, 1 encoder layer, 256 points."""
    cfg = load_cfg(M2F_CFG).model
    head = cfg.panoptic_head
    head.num_queries = 10
    head.transformer_decoder.num_layers = 2
    head.pixel_decoder.encoder.num_layers = 1
    cfg.train_cfg.num_points = 256
    if loss_boundary:
        head.loss_boundary.checkpoint = ifnet
    else:
        head.loss_boundary = None
    return cfg


def m2f_batch(num_gts, attribute_groups) -> dict:
    spec = AttributeSpec(attribute_groups)
    rng = np.random.RandomState(0)
    inputs, samples = [], []
    for (h, w), num in zip(IMAGE_SIZES, num_gts):
        inputs.append(
            torch.from_numpy(rng.randint(0, 256, (3, h, w), np.uint8))
        )
        masks = np.zeros((num, h, w), np.uint8)
        bboxes, attrs = [], []
        for i in range(num):
            x1, y1 = rng.randint(0, w // 2), rng.randint(0, h // 2)
            x2, y2 = rng.randint(x1 + 12, w), rng.randint(y1 + 12, h)
            masks[i, y1:y2, x1:x2] = 1
            bboxes.append([x1, y1, x2, y2])
            row = []
            for group in spec:
                row += (
                    rng.randint(0, 2, group.num_values).tolist()
                    if group.multi_label
                    else [int(rng.randint(group.num_values))]
                )
            attrs.append(row)
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0)
            )
        )
        sample.gt_instances = InstanceData(
            labels=torch.from_numpy(rng.randint(0, 3, num)).long(),
            bboxes=torch.tensor(bboxes, dtype=torch.float32).reshape(-1, 4),
            masks=BitmapMasks(masks, h, w),
            attr_labels=torch.tensor(attrs, dtype=torch.long).reshape(
                num, spec.num_label_columns
            ),
        )
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def m2f_losses(model, num_gts) -> dict:
    batch = m2f_batch(num_gts, load_cfg(M2F_CFG).attribute_groups)
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model(**data, mode='loss')


@pytest.fixture(scope='module')
def m2f_model(random_ifnet):
    torch.manual_seed(0)
    return MMDET_MODELS.build(m2f_model_cfg(random_ifnet))


def test_mask2former_boundary_term_on_every_decoder_layer(m2f_model):
    losses = m2f_losses(m2f_model, (2, 3))
    names = ['loss_inverseform', 'd0.loss_inverseform', 'd1.loss_inverseform']
    assert set(names) <= set(losses)
    for name in names:
        assert torch.isfinite(losses[name]) and losses[name] > 0, name
    m2f_model.zero_grad()
    losses['loss_inverseform'].backward()
    mask_embed = m2f_model.panoptic_head.mask_embed[-1].weight
    assert mask_embed.grad.abs().sum() > 0


def test_mask2former_without_matches_gives_zero_in_graph(m2f_model):
    losses = m2f_losses(m2f_model, (0, 0))
    for prefix in ('', 'd0.', 'd1.'):
        loss = losses[prefix + 'loss_inverseform']
        assert loss.item() == 0 and loss.requires_grad


def test_mask2former_without_boundary_loss_is_the_attribute_head(m2f_model):
    head = m2f_model.panoptic_head
    torch.manual_seed(1)
    boundary_losses = m2f_losses(m2f_model, (2, 1))
    loss_boundary, head.loss_boundary = head.loss_boundary, None
    try:
        torch.manual_seed(1)
        plain_losses = m2f_losses(m2f_model, (2, 1))
    finally:
        head.loss_boundary = loss_boundary
    extra = set(boundary_losses) - set(plain_losses)
    assert extra == {
        'loss_inverseform',
        'd0.loss_inverseform',
        'd1.loss_inverseform',
    }
    for name, loss in plain_losses.items():
        torch.testing.assert_close(boundary_losses[name], loss, msg=name)


def test_mask2former_collectives_do_not_depend_on_matches(m2f_model):
    """A rank without matches runs the collectives of a rank with matches,
    in the same order (else DDP ranks pair different all-reduces)."""

    def all_reduces(num_gts):
        calls = []

        def all_reduce(tensor, op=None, **kwargs):
            calls.append(tuple(tensor.shape))

        with (
            mock.patch.object(dist, 'is_initialized', return_value=True),
            mock.patch.object(dist, 'get_world_size', return_value=2),
            mock.patch.object(dist, 'all_reduce', all_reduce),
        ):
            m2f_losses(m2f_model, num_gts)
        return calls

    with_matches, without = all_reduces((2, 3)), all_reduces((0, 0))
    num_groups = len(m2f_model.panoptic_head.attr_spec)
    # Per decoder layer: mmdet's number of masks, the attribute
    # normalisers, the boundary loss's number of masks.
    assert with_matches == [(1,), (num_groups,), (1,)] * 3
    assert without == with_matches
