"""Shared pieces of the model tests: attribute groups, configs, samples.

The model is mmdet's ``mask2former_r50_8xb2-lsj-50e_coco.py`` shrunk by
``shrink_mask2former`` (``tests/conftest.py``: ResNet-18 from scratch, 64
channels, 10 queries, 2 decoder layers, 256 points, 3 classes), then turned
into the attribute model by :func:`to_attr_model`.
"""

from typing import Optional, Sequence

import numpy as np
import torch
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData

from mmmultilabel.utils import AttributeSpec

# D = 1 + 1 + 2 = 4 label columns, S = 3 + 2 + 2 = 7 score columns,
# A = 4 + 3 + 2 = 9 logits.
ATTRIBUTE_GROUPS = [
    dict(name='color', values=['red', 'green', 'blue'], multi_label=False),
    dict(name='size', values=['small', 'large'], multi_label=False),
    dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
]
NUM_CLASSES = 3
# Two odd-sized images (H, W).
IMAGE_SIZES = ((67, 83), (91, 75))


def to_attr_model(
    model: dict, attribute_groups: Optional[Sequence[dict]]
) -> dict:
    """Turn a Mask2Former model config into the attribute model, in place.

    The head and the fusion head get the attribute groups, the matcher the
    two attribute costs.
    """
    model['panoptic_head'].update(
        type='AttrMask2FormerHead', attribute_groups=attribute_groups
    )
    assigner = model['train_cfg']['assigner']
    assigner['match_costs'] = list(assigner['match_costs']) + [
        dict(type='AttrClassificationCost', weight=1.0),
        dict(type='AttrBinaryCrossEntropyCost', weight=1.0),
    ]
    model['panoptic_fusion_head'].update(
        type='AttrMaskFormerFusionHead', attribute_groups=attribute_groups
    )
    return model


def random_attr_labels(
    spec: AttributeSpec, num: int, rng: np.random.RandomState
) -> torch.Tensor:
    """Random known attribute rows (N, D) in the encoding of ``spec``."""
    rows = []
    for _ in range(num):
        row = []
        for group in spec:
            if group.multi_label:
                row += rng.randint(0, 2, group.num_values).tolist()
            else:
                row.append(int(rng.randint(group.num_values)))
        rows.append(row)
    return torch.tensor(rows, dtype=torch.long).reshape(
        num, spec.num_label_columns
    )


def make_sample(
    h: int,
    w: int,
    num_gts: int,
    rng: np.random.RandomState,
    img_id: int = 0,
    spec: Optional[AttributeSpec] = None,
    ori_scale: float = 1.0,
) -> DetDataSample:
    """A data sample with ``num_gts`` random rectangles of random classes.

    ``attr_labels`` are random known rows when ``spec`` is given, absent
    otherwise. ``ori_scale`` sets ``ori_shape`` (the size before resizing).
    """
    sample = DetDataSample(
        metainfo=dict(
            img_id=img_id,
            img_shape=(h, w),
            ori_shape=(round(h * ori_scale), round(w * ori_scale)),
            scale_factor=(1 / ori_scale, 1 / ori_scale),
        )
    )
    masks = np.zeros((num_gts, h, w), dtype=np.uint8)
    bboxes = []
    for i in range(num_gts):
        x1, y1 = rng.randint(0, w // 2), rng.randint(0, h // 2)
        x2, y2 = rng.randint(x1 + 8, w), rng.randint(y1 + 8, h)
        masks[i, y1:y2, x1:x2] = 1
        bboxes.append([x1, y1, x2, y2])
    gt = InstanceData(
        labels=torch.from_numpy(rng.randint(0, NUM_CLASSES, num_gts)).long(),
        bboxes=torch.tensor(bboxes, dtype=torch.float32).reshape(-1, 4),
        masks=BitmapMasks(masks, h, w),
    )
    if spec is not None:
        gt.attr_labels = random_attr_labels(spec, num_gts, rng)
    sample.gt_instances = gt
    return sample
