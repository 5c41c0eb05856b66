"""Time AttrCocoMetric against mmdet's CocoMetric on the same predictions.

A synthetic data set (default 500 images, 20 predictions each, masks at
the original image size, 3 attribute groups) is evaluated by both metrics
with ``metric=['bbox', 'segm']``. Each repeat times ``process`` over all
batches plus ``evaluate`` (mask encoding, result conversion and COCO
evaluation), alternating the two metrics; the medians of the wall-clock
times and their ratio are printed, as well as the ratio of ``evaluate``
alone and of the CPU time (steadier on a shared machine). The exit status
is 1 if the wall-clock ratio exceeds 1.5.

Example:
    python tools/analysis_tools/bench_metric.py --repeats 3
"""

import argparse
import contextlib
import io
import json
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import List, Optional

import numpy as np
import pycocotools.mask as mask_util
import torch
from mmdet.evaluation import CocoMetric

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.evaluation import AttrCocoMetric
from mmmultilabel.utils import AttributeSpec

GROUPS = [
    dict(name='color', values=['red', 'green', 'blue', 'yellow']),
    dict(name='size', values=['small', 'medium', 'large']),
    dict(
        name='pattern',
        values=['plain', 'striped', 'dotted', 'checked'],
        multi_label=True,
    ),
]
CLASSES = ('circle', 'square', 'triangle', 'star', 'ring')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=500)
    parser.add_argument('--preds', type=int, default=20)
    parser.add_argument('--gts', type=int, default=6, help='per image')
    parser.add_argument('--size', type=int, nargs=2, default=[240, 320])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def _rect_mask(h: int, w: int, box) -> np.ndarray:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    mask = np.zeros((h, w), dtype=bool)
    mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = True
    return mask


def make_data(args: argparse.Namespace):
    """Attribute COCO ground truth and per-image data samples."""
    rng = np.random.default_rng(args.seed)
    spec = AttributeSpec(GROUPS)
    h, w = args.size
    images, anns, samples = [], [], []
    for n in range(args.images):
        img_id = 3 * n + 1
        images.append(
            dict(id=img_id, width=w, height=h, file_name=f'{img_id}.png')
        )
        boxes, labels = [], []
        for _ in range(args.gts):
            bw, bh = rng.integers(12, w // 3), rng.integers(12, h // 3)
            x, y = rng.integers(0, w - bw), rng.integers(0, h - bh)
            box = [float(x), float(y), float(x + bw), float(y + bh)]
            rle = mask_util.encode(np.asfortranarray(_rect_mask(h, w, box)))
            label = int(rng.integers(len(CLASSES)))
            attrs = dict(
                color=str(rng.choice(GROUPS[0]['values'])),
                size=str(rng.choice(GROUPS[1]['values'])),
                pattern=[v for v in GROUPS[2]['values'] if rng.random() < 0.3],
            )
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=img_id,
                    category_id=label + 1,
                    bbox=[box[0], box[1], float(bw), float(bh)],
                    area=float(bw * bh),
                    iscrowd=0,
                    segmentation=dict(
                        size=rle['size'], counts=rle['counts'].decode()
                    ),
                    attributes=attrs,
                )
            )
            boxes.append(box)
            labels.append((label, spec.encode(attrs)))
        pred_boxes, pred_labels, pred_attrs = [], [], []
        for k in range(args.preds):
            if k < 2 * len(boxes):  # near a ground truth
                box = np.array(boxes[k // 2]) + rng.normal(0, 2, 4)
                label, attrs = labels[k // 2]
                if rng.random() < 0.3:
                    attrs = spec.encode(
                        dict(color=str(rng.choice(GROUPS[0]['values'])))
                    )
            else:  # background
                bw, bh = rng.integers(8, w // 3), rng.integers(8, h // 3)
                x, y = rng.integers(0, w - bw), rng.integers(0, h - bh)
                box = np.array([x, y, x + bw, y + bh], dtype=float)
                label = int(rng.integers(len(CLASSES)))
                attrs = spec.encode({})
            pred_boxes.append(box)
            pred_labels.append(label)
            pred_attrs.append(attrs)
        masks = np.stack([_rect_mask(h, w, b) for b in pred_boxes])
        samples.append(
            dict(
                img_id=img_id,
                ori_shape=(h, w),
                pred_instances=dict(
                    bboxes=torch.tensor(np.array(pred_boxes)).float(),
                    scores=torch.from_numpy(rng.random(args.preds)).float(),
                    labels=torch.tensor(pred_labels),
                    masks=torch.from_numpy(masks),
                    attr_labels=torch.tensor(pred_attrs),
                    attr_scores=torch.from_numpy(
                        rng.random((args.preds, spec.num_values))
                    ).float(),
                ),
            )
        )
    gt = dict(
        images=images,
        annotations=anns,
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)],
        attribute_groups=GROUPS,
    )
    return gt, samples


def time_metric(metric, samples, batch: int = 8):
    """Wall seconds of process over all batches + evaluate, of evaluate
    alone, CPU seconds of both, and the metrics."""
    with contextlib.redirect_stdout(io.StringIO()):
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(0, len(samples), batch):
            metric.process({}, samples[i : i + batch])
        mid = time.perf_counter()
        results = metric.evaluate(size=len(samples))
        end, cpu_end = time.perf_counter(), time.process_time()
    return end - start, end - mid, cpu_end - cpu_start, results


def main(argv: Optional[List[str]] = None) -> float:
    args = parse_args(argv)
    gt, samples = make_data(args)
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = osp.join(tmp, 'gt.json')
        with open(ann_file, 'w') as f:
            json.dump(gt, f)
        meta = dict(classes=CLASSES, attribute_groups=GROUPS)
        kwargs = dict(ann_file=ann_file, metric=['bbox', 'segm'])
        with contextlib.redirect_stdout(io.StringIO()):
            metrics = dict(
                coco=CocoMetric(**kwargs), attr=AttrCocoMetric(**kwargs)
            )
        for metric in metrics.values():
            metric.dataset_meta = meta
        total = {k: [] for k in metrics}
        evaluate = {k: [] for k in metrics}
        cpu = {k: [] for k in metrics}
        for r in range(args.repeats):
            names = list(metrics) if r % 2 == 0 else list(metrics)[::-1]
            for name in names:
                t_all, t_eval, t_cpu, results = time_metric(
                    metrics[name], samples
                )
                total[name].append(t_all)
                evaluate[name].append(t_eval)
                cpu[name].append(t_cpu)
    med = {k: statistics.median(v) for k, v in total.items()}
    med_eval = {k: statistics.median(v) for k, v in evaluate.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    ratio = med['attr'] / med['coco']
    print(
        f'{args.images} images x {args.preds} predictions, '
        f'{args.size[0]}x{args.size[1]}, bbox+segm, '
        f'median of {args.repeats}'
    )
    print(
        f'CocoMetric      {med["coco"]:7.2f} s  '
        f'(evaluate {med_eval["coco"]:.2f} s)'
    )
    print(
        f'AttrCocoMetric  {med["attr"]:7.2f} s  '
        f'(evaluate {med_eval["attr"]:.2f} s)'
    )
    print(f'ratio           {ratio:7.2f}  (limit 1.50)')
    print(f'ratio evaluate  {med_eval["attr"] / med_eval["coco"]:7.2f}')
    print(
        f'ratio CPU time  {med_cpu["attr"] / med_cpu["coco"]:7.2f}  '
        f'({med_cpu["attr"]:.2f} s / {med_cpu["coco"]:.2f} s)'
    )
    print(
        'segm_mAP {:.3f}, segm_attr_mAP {:.3f}, segm_pair_mAP {:.3f}'.format(
            results['coco/segm_mAP'],
            results['coco/segm_attr_mAP'],
            results['coco/segm_pair_mAP'],
        )
    )
    return ratio


if __name__ == '__main__':
    sys.exit(0 if main(sys.argv[1:]) <= 1.5 else 1)
