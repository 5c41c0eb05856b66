"""With and without the InverseForm loss on shapes: boundary F and mIoU/AP.

Trains each pair of configs with the same seed and the same number of
iterations, one after the other (separate processes, ``tools/train.py``),
then evaluates both on the val split:

* ``seg``: semantic FPN (``configs/inverseform/fpn_r18-w32_...``) with
  cross-entropy, against the same model with cross-entropy + InverseForm.
* ``m2f``: the attribute Mask2Former CPU config, against the same config
  with the InverseForm boundary term on matched masks.

Metrics of the ``seg`` pair, from the semantic label PNGs of the val split:

* ``mIoU``: mean over the classes (background included) of the
  intersection over union accumulated over the split.
* ``BF@d``: boundary F-score (Csurka et al., BMVC 2013): for every image
  and class present in the prediction or the ground truth, precision and
  recall of the 1-pixel class boundaries within ``d`` pixels of each
  other, F = 2PR / (P + R); averaged per class over images, then over
  classes (``_fg``: without background).

Metrics of the ``m2f`` pair, free of a score threshold: every ground-truth
instance is paired with the predicted mask of its class that overlaps it
most (any score); ``BF@d`` is the mean boundary F-score and ``mIoU`` the
mean IoU of these pairs (0 when no prediction has the instance's class).

Both pairs also report their evaluator's own numbers (mmseg
``IoUMetric``; segm mAP of ``AttrCocoMetric``). Missing pieces are made
first: the semantic label PNGs
(``tools/inverseform/shapes2semseg.py``) and the IF-Net
(``tools/train.py`` on ``configs/inverseform/ifnet_s64_1xb32-3k_shapes.py``,
``--ifnet-iters`` iterations). Results go to ``WORK_DIR/results.json``
and a table is printed. On one busy CPU core a ``seg`` run of 1000
iterations took 5 to 10 minutes and an ``m2f`` run of 500 iterations 10 to
13; use ``nice``/``OMP_NUM_THREADS`` on a shared machine.

Example:
    python tools/inverseform/bench_inverseform.py --which seg m2f
"""

import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

import cv2
import numpy as np
import torch
from mmengine.config import Config

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.engine import build_runner

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = osp.join(REPO, 'configs')
PAIRS = dict(
    seg=(
        'inverseform/fpn_r18-w32_1xb8-1k_shapes-semseg.py',
        'inverseform/fpn-inverseform_r18-w32_1xb8-1k_shapes-semseg.py',
    ),
    m2f=(
        'mask2former-attr/mask2former-attr_r18_1xb8-1500i_shapes.py',
        'inverseform/mask2former-attr-inverseform_r18_1xb8-1500i_shapes.py',
    ),
)
IFNET_CONFIG = 'inverseform/ifnet_s64_1xb32-3k_shapes.py'
NUM_CLASSES = 4  # background, circle, square, triangle


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train with and without InverseForm on shapes; compare '
        'boundary F-score and mIoU / mask AP'
    )
    parser.add_argument(
        '--which',
        nargs='+',
        choices=sorted(PAIRS),
        default=['seg'],
        help='model pairs to compare (default: seg)',
    )
    parser.add_argument(
        '--runs',
        nargs='+',
        choices=['baseline', 'inverseform'],
        default=['baseline', 'inverseform'],
        help='which run of each pair (default: both)',
    )
    parser.add_argument('--data-root', default='data/shapes')
    parser.add_argument(
        '--ifnet',
        help='IF-Net checkpoint (default: '
        'work_dirs/ifnet_s64_1xb32-3k_shapes/iter_IFNET_ITERS.pth, trained '
        'on the train split if missing)',
    )
    parser.add_argument('--ifnet-iters', type=int, default=3000)
    parser.add_argument(
        '--iters',
        type=int,
        default=1000,
        help='training iterations of the seg pair (default: 1000)',
    )
    parser.add_argument(
        '--m2f-iters',
        type=int,
        default=500,
        help='training iterations of the m2f pair (default: 500)',
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--loss-weight',
        type=float,
        default=None,
        help="InverseForm loss_weight (default: the configs')",
    )
    parser.add_argument(
        '--tolerances',
        type=int,
        nargs='+',
        default=[1, 2],
        help='BF distance tolerances in pixels (default: 1 2)',
    )
    parser.add_argument('--work-dir', default='work_dirs/bench_inverseform')
    parser.add_argument(
        '--eval-only',
        action='store_true',
        help='evaluate existing checkpoints in WORK_DIR, do not train',
    )
    return parser.parse_args(argv)


def run(cmd: List[str]) -> None:
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, cwd=REPO, check=True)


def prepare(args: argparse.Namespace) -> None:
    """Make the label PNGs and the IF-Net when they are missing."""
    if not osp.isfile(osp.join(args.data_root, 'annotations', 'val.json')):
        sys.exit(
            f'error: no shapes data in {args.data_root}; make it with '
            f'python tools/dataset_converters/make_shapes.py '
            f'{args.data_root}'
        )
    if not osp.isdir(osp.join(args.data_root, 'semseg', 'val')):
        run(
            [
                sys.executable,
                'tools/inverseform/shapes2semseg.py',
                args.data_root,
            ]
        )
    if args.ifnet is None:
        work_dir = osp.join('work_dirs', 'ifnet_s64_1xb32-3k_shapes')
        args.ifnet = osp.join(work_dir, f'iter_{args.ifnet_iters}.pth')
        if not osp.isfile(args.ifnet):
            train(
                osp.join(CONFIGS, IFNET_CONFIG),
                work_dir,
                ifnet_overrides(args),
            )
    elif not osp.isfile(args.ifnet):
        sys.exit(f'error: IF-Net checkpoint not found: {args.ifnet}')


def ifnet_overrides(args: argparse.Namespace) -> dict:
    """Config changes of the IF-Net: data, seed, and the schedule's
    phases (torch's OneCycleLR with 5 % warm-up) for ``--ifnet-iters``."""
    root = args.data_root.rstrip('/') + '/'
    iters = args.ifnet_iters
    warmup = int(0.05 * iters) - 1
    opts = {
        'randomness.seed': args.seed,
        'train_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'train_cfg.max_iters': iters,
        'train_cfg.val_interval': iters,
        'default_hooks.checkpoint.interval': iters,
    }
    # param_scheduler: lr rise, lr fall, beta1 fall, beta1 rise
    for i in (0, 2):
        opts.update({f'param_scheduler.{i}.T_max': warmup})
        opts.update({f'param_scheduler.{i}.end': warmup + 1})
    for i in (1, 3):
        opts.update({f'param_scheduler.{i}.T_max': iters - 1 - warmup})
        opts.update({f'param_scheduler.{i}.begin': warmup})
        opts.update({f'param_scheduler.{i}.end': iters})
    return opts


def overrides(args: argparse.Namespace, which: str, with_if: bool) -> dict:
    """Config changes: data, seed, schedule and the IF-Net checkpoint."""
    root = args.data_root.rstrip('/') + '/'
    opts = {
        'randomness.seed': args.seed,
        'train_dataloader.dataset.data_root': root,
        'val_dataloader.dataset.data_root': root,
        'test_dataloader.dataset.data_root': root,
    }
    if which == 'seg':
        iters = args.iters
        opts['param_scheduler.0.end'] = iters
        if with_if:
            opts['model.decode_head.loss_decode.1.checkpoint'] = args.ifnet
            if args.loss_weight is not None:
                opts['model.decode_head.loss_decode.1.loss_weight'] = (
                    args.loss_weight
                )
    else:
        iters = args.m2f_iters
        opts['param_scheduler.end'] = iters
        opts['param_scheduler.milestones'] = [int(iters * 13 / 15)]
        for split in ('val', 'test'):
            opts[f'{split}_evaluator.ann_file'] = root + 'annotations/val.json'
        if with_if:
            opts['model.panoptic_head.loss_boundary.checkpoint'] = args.ifnet
            if args.loss_weight is not None:
                opts['model.panoptic_head.loss_boundary.loss_weight'] = (
                    args.loss_weight
                )
    opts.update(
        {
            'train_cfg.max_iters': iters,
            # no validation while training; evaluate() does it once
            'train_cfg.val_interval': iters + 1,
            'default_hooks.checkpoint.interval': iters,
        }
    )
    return opts


def train(config: str, work_dir: str, opts: dict) -> float:
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir]
    cmd += ['--cfg-options'] + [
        f'{k}={json.dumps(v) if isinstance(v, list) else v}'
        for k, v in opts.items()
    ]
    start = time.time()
    run(cmd)
    return time.time() - start


def boundary(mask: np.ndarray) -> np.ndarray:
    """1-pixel inner boundary of a binary mask (the image border is not
    a boundary)."""
    mask = mask.astype(np.uint8)
    eroded = cv2.erode(mask, np.ones((3, 3), np.uint8), iterations=1)
    return (mask > 0) & (eroded == 0)


def boundary_f(pred: np.ndarray, gt: np.ndarray, tolerance: int) -> float:
    """BF score of two binary masks (Csurka et al., BMVC 2013)."""
    bp, bg = boundary(pred), boundary(gt)
    if not bp.any() and not bg.any():
        return 1.0
    if not bp.any() or not bg.any():
        return 0.0
    size = 2 * tolerance + 1
    disk = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    near_g = cv2.dilate(bg.astype(np.uint8), disk) > 0
    near_p = cv2.dilate(bp.astype(np.uint8), disk) > 0
    precision = (bp & near_g).sum() / bp.sum()
    recall = (bg & near_p).sum() / bg.sum()
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


class SemanticScores:
    """Accumulates mIoU and BF of predicted against true label maps."""

    def __init__(self, num_classes: int, tolerances: List[int]) -> None:
        self.num_classes = num_classes
        self.tolerances = tolerances
        self.confusion = np.zeros((num_classes, num_classes), np.int64)
        self.bf = {t: [[] for _ in range(num_classes)] for t in tolerances}

    def add(self, pred: np.ndarray, gt: np.ndarray) -> None:
        self.confusion += np.bincount(
            gt.ravel() * self.num_classes + pred.ravel(),
            minlength=self.num_classes**2,
        ).reshape(self.num_classes, self.num_classes)
        for cls in range(self.num_classes):
            p, g = pred == cls, gt == cls
            if not p.any() and not g.any():
                continue
            for t in self.tolerances:
                self.bf[t][cls].append(boundary_f(p, g, t))

    def summary(self) -> Dict[str, float]:
        inter = np.diag(self.confusion)
        union = self.confusion.sum(0) + self.confusion.sum(1) - inter
        iou = inter / np.maximum(union, 1)
        out = dict(mIoU=100 * float(iou.mean()))
        for t in self.tolerances:
            per_class = [np.mean(v) for v in self.bf[t][: self.num_classes]]
            out[f'BF@{t}'] = 100 * float(np.mean(per_class))
            out[f'BF@{t}_fg'] = 100 * float(np.mean(per_class[1:]))
        return out


class InstanceScores:
    """Accumulates BF and IoU of every ground-truth instance with the
    predicted mask of its class that overlaps it most."""

    def __init__(self, tolerances: List[int]) -> None:
        self.tolerances = tolerances
        self.bf = {t: [] for t in tolerances}
        self.ious: List[float] = []

    def add(self, sample) -> None:
        gt = sample.gt_instances
        gt_masks = gt.masks
        if hasattr(gt_masks, 'to_ndarray'):
            gt_masks = gt_masks.to_ndarray()
        gt_masks = np.asarray(gt_masks, dtype=bool)
        pred = sample.pred_instances
        pred_masks = pred.masks.cpu().numpy().astype(bool)
        pred_labels = pred.labels.cpu().numpy()
        for mask, label in zip(gt_masks, gt.labels.cpu().numpy()):
            candidates = pred_masks[pred_labels == label]
            if not len(candidates):
                self.ious.append(0.0)
                for t in self.tolerances:
                    self.bf[t].append(0.0)
                continue
            inter = (candidates & mask).sum(axis=(1, 2))
            union = (candidates | mask).sum(axis=(1, 2))
            iou = inter / np.maximum(union, 1)
            best = int(iou.argmax())
            self.ious.append(float(iou[best]))
            for t in self.tolerances:
                self.bf[t].append(boundary_f(candidates[best], mask, t))

    def summary(self) -> Dict[str, float]:
        out = dict(mIoU=100 * float(np.mean(self.ious)))
        for t in self.tolerances:
            out[f'BF@{t}'] = 100 * float(np.mean(self.bf[t]))
        return out


def evaluate(
    config: str, checkpoint: str, opts: dict, args: argparse.Namespace
) -> Dict[str, float]:
    """The evaluator's metrics plus mIoU and BF from the label PNGs."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(opts)
    cfg.work_dir = osp.join(osp.dirname(checkpoint), 'eval')
    cfg.load_from = checkpoint
    cfg.log_level = 'WARNING'
    cfg.test_evaluator.pop('outfile_prefix', None)
    runner = build_runner(cfg)
    runner.load_checkpoint(checkpoint, map_location='cpu')
    model = runner.model.eval()
    loader = runner.test_dataloader
    evaluator = runner.test_evaluator
    semantic = SemanticScores(NUM_CLASSES, args.tolerances)
    instance = InstanceScores(args.tolerances)
    seg_dir = osp.join(args.data_root, 'semseg', 'val')
    with torch.no_grad():
        for batch in loader:
            outputs = model.test_step(batch)
            evaluator.process(data_samples=outputs, data_batch=batch)
            for sample in outputs:
                if 'pred_instances' in sample:
                    instance.add(sample)
                    continue
                stem = osp.splitext(osp.basename(sample.img_path))[0]
                gt = cv2.imread(osp.join(seg_dir, stem + '.png'), -1)
                semantic.add(
                    sample.pred_sem_seg.data[0].cpu().numpy(),
                    gt.astype(np.int64),
                )
    scores = instance if instance.ious else semantic
    metrics = evaluator.evaluate(len(loader.dataset))
    keep = {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, (int, float, np.number))
    }
    keep = {
        k: v
        for k, v in keep.items()
        if k in ('mIoU', 'aAcc', 'mAcc')
        or k.endswith(('segm_mAP', 'segm_mAP_50', 'segm_mAP_75'))
    }
    return dict(
        **scores.summary(), **{f'evaluator/{k}': v for k, v in keep.items()}
    )


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    os.chdir(REPO)
    prepare(args)
    results = dict(seed=args.seed, ifnet=args.ifnet, runs={})
    for which in args.which:
        for with_if, rel in zip((False, True), PAIRS[which]):
            kind = 'inverseform' if with_if else 'baseline'
            if kind not in args.runs:
                continue
            name = f'{which}_{kind}'
            config = osp.join(CONFIGS, rel)
            work_dir = osp.join(args.work_dir, name)
            opts = overrides(args, which, with_if)
            iters = opts['train_cfg.max_iters']
            checkpoint = osp.join(work_dir, f'iter_{iters}.pth')
            seconds = None
            if not args.eval_only:
                seconds = train(config, work_dir, opts)
            elif not osp.isfile(checkpoint):
                sys.exit(f'error: --eval-only but {checkpoint} is missing')
            run_result = evaluate(config, checkpoint, opts, args)
            run_result.update(config=rel, iters=iters, train_seconds=seconds)
            results['runs'][name] = run_result
            print(name, json.dumps(run_result, indent=2), flush=True)
    os.makedirs(args.work_dir, exist_ok=True)
    with open(osp.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print_table(results)
    return 0


def print_table(results: dict) -> None:
    runs = results['runs']
    keys = sorted(
        {k for r in runs.values() for k in r if k not in ('config',)},
        key=lambda k: (k.startswith('evaluator'), k),
    )
    print(f'\nseed {results["seed"]}, IF-Net {results["ifnet"]}')
    print('| run | ' + ' | '.join(keys) + ' |')
    print('|---' * (len(keys) + 1) + '|')
    for name, r in runs.items():
        cells = [
            f'{r[k]:.2f}' if isinstance(r.get(k), float) else str(r.get(k))
            for k in keys
        ]
        print(f'| {name} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    sys.exit(main())
