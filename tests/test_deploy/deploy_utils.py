"""Helpers of the deployment tests: the tiny attribute model of the
inference tests, exported, and PyTorch's own logits to compare with.

The expected values come from the PyTorch detector (``extract_feat`` and
``panoptic_head.predict``, what ``MaskFormer.predict`` runs), split by the
channel counts of the attribute groups written out here, not from the
export code under test.
"""

import importlib.util
import os.path as osp

import mmcv
import numpy as np
import pycocotools.mask as mask_util
import torch
from mmdet.structures import DetDataSample
from test_apis.attr_infer_utils import ATTRIBUTE_GROUPS, CLASSES


def _load_tool(name: str):
    """A script of ``tools/deployment`` as a module."""
    path = osp.join(
        osp.dirname(__file__), '..', '..', 'tools', 'deployment', f'{name}.py'
    )
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


export_tool = _load_tool('export_onnx')
parity_tool = _load_tool('onnx_parity')

# Logits per output: classes + no object, then per group K + 1
# (single-label) or K (multi-label).
OUTPUT_WIDTHS = [len(CLASSES) + 1] + [
    len(g['values']) + (0 if g.get('multi_label') else 1)
    for g in ATTRIBUTE_GROUPS
]
OUTPUT_NAMES = ['cls_logits', 'mask_logits'] + [
    f'attr_{g["name"]}' for g in ATTRIBUTE_GROUPS
]


def torch_logits(model, inputs: torch.Tensor) -> dict:
    """PyTorch's logits of a normalised batch (N, 3, H, W), by output name.

    Returns:
        dict[str, Tensor]: ``cls_logits`` (N, Q, C + 1), ``mask_logits``
        (N, Q, H, W), ``attr_<group>`` (N, Q, K + 1 or K).
    """
    h, w = inputs.shape[-2:]
    samples = [
        DetDataSample(metainfo=dict(batch_input_shape=(h, w)))
        for _ in range(len(inputs))
    ]
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        mask_cls, mask_pred = model.panoptic_head.predict(feats, samples)
    cls_logits, *attrs = mask_cls.split(OUTPUT_WIDTHS, dim=-1)
    names = OUTPUT_NAMES[:1] + OUTPUT_NAMES[2:]
    out = dict(zip(names, [cls_logits, *attrs]))
    out['mask_logits'] = mask_pred
    return out


def ort_outputs(onnx_file: str, inputs: torch.Tensor) -> dict:
    """Outputs of a plain ONNX Runtime session, by output name."""
    import onnxruntime as ort

    session = ort.InferenceSession(
        onnx_file, providers=['CPUExecutionProvider']
    )
    names = [o.name for o in session.get_outputs()]
    outs = session.run(names, {'input': inputs.numpy()})
    return {n: torch.from_numpy(o) for n, o in zip(names, outs)}


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two binary masks (1 for two empty masks)."""
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else np.logical_and(a, b).sum() / union


def decode(rle: dict) -> np.ndarray:
    """A record's COCO RLE mask as an (H, W) array."""
    return mask_util.decode(dict(size=rle['size'], counts=rle['counts']))


def write_images(folder, sizes, seed=0):
    """Images of ``sizes`` (H, W) with a coloured rectangle, as PNG files
    ``img<i>.png`` in ``folder``."""
    rng = np.random.RandomState(seed)
    for i, (h, w) in enumerate(sizes):
        img = np.full((h, w, 3), 40, np.uint8)
        y, x = rng.randint(0, h // 2), rng.randint(0, w // 2)
        img[y : y + h // 2, x : x + w // 2] = rng.randint(0, 256, 3)
        mmcv.imwrite(img, str(folder / f'img{i}.png'))
    return folder
