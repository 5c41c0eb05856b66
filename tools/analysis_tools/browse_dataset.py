"""Save training samples after the pipeline, with masks, classes and
attributes drawn on them.

Examples:
    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir vis
    python tools/analysis_tools/browse_dataset.py CONFIG --output-dir vis \
        --num-samples 20 --split val --scale 4

The visualizer is the config's ``visualizer`` (mmdet's DetLocalVisualizer
when the config has none). When it draws instances with mmdet's stock code,
the attribute values are written into each instance's label text; a
visualizer that draws instances itself is trusted to draw attributes.
"""

import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import cv2
import numpy as np
import torch
from mmdet.models.utils import mask2ndarray
from mmdet.registry import DATASETS, VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import BaseBoxes
from mmdet.visualization import DetLocalVisualizer
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from tqdm import tqdm

import mmmultilabel  # noqa: F401  (registers the modules)
from mmmultilabel.utils import AttributeSpec


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Draw data samples after the pipeline into PNG files'
    )
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--output-dir', required=True, help='folder for the PNG files'
    )
    parser.add_argument(
        '--split',
        default='train',
        choices=['train', 'val', 'test'],
        help='which dataloader to browse (default: train)',
    )
    parser.add_argument(
        '--num-samples',
        type=int,
        default=None,
        help='stop after this many samples (default: all)',
    )
    parser.add_argument(
        '--scale',
        type=float,
        default=None,
        help='enlarge images by this factor before drawing '
        '(default: up to a longer side of 512 px)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'train_dataloader.dataset.ann_file=x.json',
    )
    return parser.parse_args(argv)


def attribute_text(spec: AttributeSpec, row: np.ndarray) -> str:
    """Short text of an encoded attribute row, e.g. ``red small dotted``.

    Args:
        spec (AttributeSpec): Attribute groups of the data set.
        row (np.ndarray): Encoded row of shape (D,).

    Returns:
        str: Known values in group order; multi-label values joined by
        ``+`` and ``-`` for a multi-label group known to be empty.
    """
    parts = []
    for name, value in spec.decode(row).items():
        if isinstance(value, list):
            parts.append('+'.join(value) if value else f'no {name}')
        else:
            parts.append(value)
    return ' '.join(parts)


def draws_own_instances(visualizer: DetLocalVisualizer) -> bool:
    """Whether the visualizer overrides mmdet's instance drawing."""
    return (
        not isinstance(visualizer, DetLocalVisualizer)
        or type(visualizer)._draw_instances
        is not DetLocalVisualizer._draw_instances
    )


def to_drawable(data_sample: DetDataSample, scale: float) -> DetDataSample:
    """Plain tensors/arrays for drawing, enlarged by ``scale``."""
    gt = data_sample.gt_instances
    if isinstance(gt.get('bboxes'), BaseBoxes):
        gt.bboxes = gt.bboxes.tensor
    if 'bboxes' in gt:
        gt.bboxes = gt.bboxes * scale
    if 'masks' in gt:
        masks = mask2ndarray(gt.masks).astype(np.uint8)
        if scale != 1 and len(masks):
            masks = np.stack(
                [
                    cv2.resize(
                        m,
                        None,
                        fx=scale,
                        fy=scale,
                        interpolation=cv2.INTER_NEAREST,
                    )
                    for m in masks
                ]
            )
        gt.masks = masks.astype(bool)
    data_sample.gt_instances = gt
    return data_sample


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))

    dataset = DATASETS.build(cfg[f'{args.split}_dataloader']['dataset'])
    vis_cfg = cfg.get('visualizer') or dict(type='DetLocalVisualizer')
    vis_cfg = dict(vis_cfg, name='browse_dataset')
    vis_cfg.pop('vis_backends', None)
    visualizer = VISUALIZERS.build(vis_cfg)
    visualizer.dataset_meta = dataset.metainfo
    spec = AttributeSpec(dataset.metainfo.get('attribute_groups'))
    classes = dataset.metainfo['classes']
    add_text = not draws_own_instances(visualizer)

    os.makedirs(args.output_dir, exist_ok=True)
    total = len(dataset)
    if args.num_samples is not None:
        total = min(total, args.num_samples)
    for idx in tqdm(range(total), desc='samples', unit='img'):
        item = dataset[idx]
        data_sample = item['data_samples'].numpy()
        img = item['inputs'].permute(1, 2, 0).numpy()[..., ::-1]  # to RGB
        scale = args.scale or max(1.0, 512 / max(img.shape[:2]))
        if scale != 1:
            img = cv2.resize(
                img, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST
            )
        data_sample = to_drawable(data_sample, scale)
        gt = data_sample.gt_instances
        if add_text and 'attr_labels' in gt:
            gt.label_names = [
                f'{classes[int(label)]}: {attribute_text(spec, row)}'
                for label, row in zip(gt.labels, gt.attr_labels)
            ]
        name = osp.splitext(osp.basename(data_sample.img_path))[0]
        visualizer.add_datasample(
            name,
            np.ascontiguousarray(img),
            data_sample,
            draw_pred=False,
            show=False,
            out_file=osp.join(args.output_dir, f'{idx:05d}_{name}.png'),
        )
    print(f'wrote {total} images to {args.output_dir}')
    return 0


if __name__ == '__main__':
    torch.set_grad_enabled(False)
    sys.exit(main())
