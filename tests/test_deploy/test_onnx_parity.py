"""The exported graph, run by ONNX Runtime on the CPU, against PyTorch.

Logits: max |ONNX - PyTorch| <= 1e-3 (measured ~1e-6). Records of the
inferencer: the same instances in the same order with identical
categories and attribute labels, mask IoU >= 0.99.
"""

import json

import numpy as np
import onnx
import pytest
import torch
from deploy_utils import (
    OUTPUT_NAMES,
    decode,
    mask_iou,
    ort_outputs,
    torch_logits,
    write_images,
)
from test_apis.attr_infer_utils import ATTRIBUTE_GROUPS, CLASSES

from mmmultilabel.apis import AttrInferencer

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

LOGIT_TOL = 1e-3


def _check_logits(onnx_file, model, shape, seed=0):
    inputs = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    expected = torch_logits(model, inputs)
    got = ort_outputs(onnx_file, inputs)
    assert list(got) == OUTPUT_NAMES
    for name in OUTPUT_NAMES:
        assert got[name].shape == expected[name].shape, name
        diff = (got[name] - expected[name]).abs().max().item()
        assert diff <= LOGIT_TOL, f'{name}: max abs diff {diff}'
    # masks as the fusion head binarises them (logit > 0)
    for a, b in zip(
        (got['mask_logits'] > 0).flatten(0, 1).numpy(),
        (expected['mask_logits'] > 0).flatten(0, 1).numpy(),
    ):
        assert mask_iou(a, b) >= 0.99


def test_static_graph_logits(static_onnx, torch_model):
    _check_logits(static_onnx, torch_model, (1, 3, 64, 64))


@pytest.mark.parametrize('shape', [(1, 3, 64, 96), (2, 3, 96, 64)])
def test_dynamic_graph_logits_at_two_sizes(dynamic_onnx, torch_model, shape):
    _check_logits(dynamic_onnx, torch_model, shape)


def test_graph_has_standard_operators_and_metadata(static_onnx):
    proto = onnx.load(static_onnx)
    domains = {n.domain for n in proto.graph.node}
    assert domains <= {'', 'ai.onnx'}, domains
    ops = {n.op_type for n in proto.graph.node}
    # deformable attention on its grid_sample path
    assert 'GridSample' in ops
    assert proto.opset_import[0].version >= 16
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props['classes']) == list(CLASSES)
    groups = json.loads(props['attribute_groups'])
    assert [g['name'] for g in groups] == [g['name'] for g in ATTRIBUTE_GROUPS]
    assert [g['values'] for g in groups] == [
        g['values'] for g in ATTRIBUTE_GROUPS
    ]
    assert [g['multi_label'] for g in groups] == [False, False, True]
    assert json.loads(props['input_shape']) == [1, 3, 64, 64]
    post = json.loads(props['postprocess'])
    assert post['attr_value_thr'] == 0.5
    assert post['max_per_image'] == 10
    assert [o.name for o in proto.graph.output] == OUTPUT_NAMES


def _records(cfg_path, weights, inputs, **kwargs):
    inferencer = AttrInferencer(
        cfg_path, weights, device='cpu', show_progress=False
    )
    return inferencer(inputs, score_thr=0.0, **kwargs)['predictions']


def _check_same_records(expected, got):
    assert len(got) == len(expected)
    for rec_t, rec_o in zip(expected, got):
        assert (rec_o['height'], rec_o['width']) == (
            rec_t['height'],
            rec_t['width'],
        )
        assert len(rec_o['instances']) == len(rec_t['instances']) > 0
        for inst_t, inst_o in zip(rec_t['instances'], rec_o['instances']):
            assert inst_o['category_id'] == inst_t['category_id']
            assert inst_o['category'] == inst_t['category']
            assert abs(inst_o['score'] - inst_t['score']) <= 1e-4
            values_t = {k: v['value'] for k, v in inst_t['attributes'].items()}
            values_o = {k: v['value'] for k, v in inst_o['attributes'].items()}
            assert values_o == values_t
            for group, attr in inst_t['attributes'].items():
                np.testing.assert_allclose(
                    inst_o['attributes'][group]['score'],
                    attr['score'],
                    atol=1e-4,
                )
            iou = mask_iou(decode(inst_o['mask']), decode(inst_t['mask']))
            assert iou >= 0.99
            np.testing.assert_allclose(inst_o['bbox'], inst_t['bbox'], atol=1)


def test_static_graph_records(tiny_files, static_onnx, tmp_path):
    # every image resizes (longer side 64) and pads to 64 x 64
    write_images(tmp_path, [(45, 61), (64, 50), (37, 37)])
    expected = _records(*tiny_files, str(tmp_path))
    got = _records(tiny_files[0], static_onnx, str(tmp_path))
    _check_same_records(expected, got)


def test_dynamic_graph_records_in_batches(tiny_files, dynamic_onnx, tmp_path):
    # padded to 32 x 64 and 64 x 32 alone, to 64 x 64 as a batch of two
    write_images(tmp_path, [(30, 61), (64, 30), (50, 50)])
    for batch_size in (1, 2):
        expected = _records(*tiny_files, str(tmp_path), batch_size=batch_size)
        got = _records(
            None, dynamic_onnx, str(tmp_path), batch_size=batch_size
        )
        _check_same_records(expected, got)
