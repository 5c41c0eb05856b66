"""The ONNX export of attribute classifiers that read the predicted mask.

Logits within 1e-3 of PyTorch's (measured <= 2e-6). The box statistics
threshold the mask logits at 0: a mask logit within rounding of 0 could
move a box edge by one cell on another machine; none was seen here.
"""

import os.path as osp

import pytest
import torch
from deploy_utils import OUTPUT_NAMES, export_tool, ort_outputs, torch_logits
from mmdet.registry import MODELS
from test_apis.attr_infer_utils import attr_config, save_checkpoint

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric


def test_mask_inputs_export_with_the_logits_of_pytorch(
    mask2former_cfg, tmp_path
):
    cfg = attr_config(mask2former_cfg)
    cfg.model.panoptic_head.update(
        attr_mask_features=True, attr_mask_stats=True
    )
    cfg_path = osp.join(tmp_path, 'mask-inputs.py')
    ckpt_path = osp.join(tmp_path, 'mask-inputs.pth')
    cfg.dump(cfg_path)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    save_checkpoint(model, ckpt_path)
    onnx_file = osp.join(tmp_path, 'mask-inputs.onnx')
    assert export_tool.main([cfg_path, ckpt_path, onnx_file, '--dynamic']) == 0
    model.eval()
    for shape in ((1, 3, 64, 64), (2, 3, 96, 64)):
        inputs = torch.randn(
            *shape, generator=torch.Generator().manual_seed(0)
        )
        expected = torch_logits(model, inputs)
        got = ort_outputs(onnx_file, inputs)
        for name in OUTPUT_NAMES:
            diff = (got[name] - expected[name]).abs().max().item()
            assert diff <= 1e-3, f'{name}: max abs diff {diff}'
