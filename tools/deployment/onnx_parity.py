"""Compare an exported graph run by ONNX Runtime with its PyTorch model on
the config's test (or val) split.

Examples:
    python tools/deployment/onnx_parity.py CONFIG CHECKPOINT model.onnx
    python tools/deployment/onnx_parity.py CONFIG CHECKPOINT model.onnx \\
        --out parity.json --split val

Both backends take the same batches of the config's dataloader. Per batch,
the data preprocessor's input goes through the PyTorch graph
(:class:`~mmmultilabel.deploy.AttrMask2FormerGraph`, what was exported)
and through the ONNX Runtime session, whose logits are compared query by
query; then each model's ``test_step`` (``MaskFormer.predict``, and
:class:`~mmmultilabel.deploy.OnnxAttrMask2Former` with the same fusion
head) gives the instances, which are compared per instance and fed to one
evaluator per backend, built from the config's ``test_evaluator`` (or
``val_evaluator``), as mmengine's test loop does. Each backend thus runs
its network twice per batch.

Instances are paired in the order of their scores. The report (printed,
and as JSON with ``--out``) holds:

- per output (class logits, each attribute group's logits): the largest
  ``max |ONNX - PyTorch|`` of a query, and its mean over queries; the mask
  logits for information;
- per instance: mask IoU (min, mean), the number of instances whose
  category or attribute labels differ, the images whose instance counts
  differ;
- every metric of the evaluator for both backends and their difference.

The exit status is 1 if a target is missed: logits within ``1e-3``, mask
IoU at least 0.99, identical labels and counts, metrics within 0.002
(``docs/deployment.md``); 2 for a file or a model that cannot be run.
"""

import argparse
import contextlib
import copy
import io
import json
import logging
import math
import os.path as osp
import sys
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.config import Config, DictAction
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.runner import Runner
from mmengine.structures import InstanceData
from tqdm import tqdm

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.apis import AttrInferencer
from mmmultilabel.deploy import AttrMask2FormerGraph, DeployError
from mmmultilabel.evaluation import json_metrics
from mmmultilabel.utils import AttributeSpec

#: The targets a graph must meet (``docs/deployment.md``).
LOGIT_TOL = 1e-3
MIN_IOU = 0.99
METRIC_TOL = 0.002
BACKENDS = ('pytorch', 'onnxruntime')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Logits, instances and metrics of an exported graph run '
        'by ONNX Runtime against its PyTorch model, on a data split'
    )
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('onnx', help='the graph exported from it (.onnx)')
    parser.add_argument(
        '--out',
        help='write the report as JSON here (an existing file only with '
        '--force)',
    )
    parser.add_argument(
        '--force', action='store_true', help='overwrite an existing --out'
    )
    parser.add_argument(
        '--split',
        choices=['test', 'val'],
        default='test',
        help='dataloader and evaluator of the config (default: test)',
    )
    parser.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='images per batch (default: the static graph batch, 1, or the '
        "config's batch size for a dynamic graph)",
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'test_dataloader.dataset.data_root=data/shapes/',
    )
    return parser.parse_args(argv)


class LogitStats:
    """The largest and the mean per-query ``max |ONNX - PyTorch|`` of each
    graph output."""

    def __init__(self, names: List[str]) -> None:
        self.names = names
        self.max = dict.fromkeys(names, 0.0)
        self.sum = dict.fromkeys(names, 0.0)
        self.queries = 0

    def add(self, expected: tuple, got: tuple) -> None:
        """Add a batch: the outputs of both backends, in graph order."""
        for name, exp, out in zip(self.names, expected, got):
            # (N, Q, ...) -> (N * Q, ): max over each query's logits
            diff = (out - exp).abs().flatten(2).amax(-1).flatten()
            self.max[name] = max(self.max[name], diff.max().item())
            self.sum[name] += diff.sum().item()
        self.queries += expected[0].shape[0] * expected[0].shape[1]

    def report(self) -> Dict[str, dict]:
        return {
            name: dict(
                max=self.max[name],
                mean=self.sum[name] / max(self.queries, 1),
            )
            for name in self.names
        }


class InstanceStats:
    """Mask IoU and label agreement of the instances of both backends,
    paired in the order of their scores."""

    def __init__(self) -> None:
        self.ious: List[torch.Tensor] = []
        self.instances = 0
        self.label_mismatches = 0
        self.attr_mismatches = 0
        self.count_mismatches = 0
        self.max_score_diff = 0.0

    @staticmethod
    def _by_score(pred: InstanceData) -> InstanceData:
        order = pred.scores.argsort(descending=True, stable=True)
        return pred[order]

    def add(self, expected: InstanceData, got: InstanceData) -> None:
        """Add the instances of one image from both backends."""
        exp, out = self._by_score(expected), self._by_score(got)
        if len(exp) != len(out):
            self.count_mismatches += 1
        n = min(len(exp), len(out))
        exp, out = exp[:n], out[:n]
        self.instances += n
        if n == 0:
            return
        # (n, H, W) -> (n, H * W)
        a, b = exp.masks.flatten(1).bool(), out.masks.flatten(1).bool()
        inter = (a & b).sum(1).double()
        union = (a | b).sum(1).double()
        # two empty masks agree
        self.ious.append(torch.where(union > 0, inter / union, 1.0))
        self.label_mismatches += (exp.labels != out.labels).sum().item()
        # (n, D) -> (n, ): any group differs
        self.attr_mismatches += (
            (exp.attr_labels != out.attr_labels).any(-1).sum().item()
        )
        self.max_score_diff = max(
            self.max_score_diff, (exp.scores - out.scores).abs().max().item()
        )

    def report(self) -> dict:
        ious = torch.cat(self.ious) if self.ious else torch.ones(1)
        return dict(
            instances=self.instances,
            mask_iou_min=ious.min().item(),
            mask_iou_mean=ious.mean().item(),
            category_mismatches=self.label_mismatches,
            attribute_mismatches=self.attr_mismatches,
            images_with_other_counts=self.count_mismatches,
            score_max_abs_diff=self.max_score_diff,
        )


def _metric_rows(metrics: Dict[str, dict]) -> Dict[str, dict]:
    """Per metric: both values and their absolute difference (0 when both
    are NaN, i.e. unmeasured on both sides)."""
    rows = {}
    for key, value in metrics['pytorch'].items():
        other = metrics['onnxruntime'].get(key, math.nan)
        if not isinstance(value, (int, float)):
            continue
        both_nan = math.isnan(value) and math.isnan(other)
        diff = 0.0 if both_nan else abs(value - other)
        rows[key] = dict(pytorch=value, onnxruntime=other, abs_diff=diff)
    return rows


def _failures(report: dict) -> List[str]:
    """The targets that the report misses."""
    failed = []
    for name, stats in report['logits'].items():
        if name != 'mask_logits' and not stats['max'] <= LOGIT_TOL:
            failed.append(f'{name}: max |diff| {stats["max"]:.3g}')
    inst = report['instances']
    if not inst['mask_iou_min'] >= MIN_IOU:
        failed.append(f'mask IoU min {inst["mask_iou_min"]:.4f}')
    for key in (
        'category_mismatches',
        'attribute_mismatches',
        'images_with_other_counts',
    ):
        if inst[key]:
            failed.append(f'{key} {inst[key]}')
    for key, row in report['metrics'].items():
        if not row['abs_diff'] <= METRIC_TOL:
            failed.append(f'{key}: |diff| {row["abs_diff"]:.4g}')
    return failed


def _number(value: float) -> str:
    """A metric for the table: counts as integers."""
    return str(int(value)) if float(value).is_integer() else f'{value:.4f}'


def _print_report(report: dict) -> None:
    print(f'\n{report["images"]} images of {report["onnx"]}')
    print('| ONNX Runtime vs PyTorch | max of a query | mean | target |')
    print('| --- | --- | --- | --- |')
    for name, stats in report['logits'].items():
        target = '' if name == 'mask_logits' else f'<= {LOGIT_TOL:g}'
        print(
            f'| {name} | {stats["max"]:.2e} | {stats["mean"]:.2e} | '
            f'{target} |'
        )
    inst = report['instances']
    n = inst['instances']
    print(
        f'| mask IoU per instance (min, mean) | {inst["mask_iou_min"]:.4f} '
        f'| {inst["mask_iou_mean"]:.4f} | >= {MIN_IOU} |'
    )
    print(
        f'| instances with another category | {inst["category_mismatches"]} '
        f'of {n} | | 0 |'
    )
    print(
        '| instances with other attribute labels | '
        f'{inst["attribute_mismatches"]} of {n} | | 0 |'
    )
    print(
        '| images with other instance counts | '
        f'{inst["images_with_other_counts"]} | | 0 |'
    )
    print(
        f'| instance scores, max abs diff | {inst["score_max_abs_diff"]:.2e} '
        '| | |'
    )
    print('\n| metric | PyTorch | ONNX Runtime | abs diff |')
    print('| --- | --- | --- | --- |')
    for key, row in report['metrics'].items():
        print(
            f'| {key} | {_number(row["pytorch"])} | '
            f'{_number(row["onnxruntime"])} | {row["abs_diff"]:.4f} |'
        )
    failed = report['failed']
    print(
        '\nparity: '
        + (
            'every target met'
            if not failed
            else 'targets missed: ' + '; '.join(failed)
        )
    )


def check_same_names(
    torch_model: nn.Module, onnx_model: nn.Module, checkpoint: str
) -> None:
    """Raise unless both models have the same classes and attribute groups.

    Raises:
        DeployError: naming the files and what differs.
    """
    theirs = onnx_model.info
    ours = dict(
        classes=list(torch_model.dataset_meta['classes']),
        attribute_groups=AttributeSpec(
            torch_model.dataset_meta.get('attribute_groups')
        ).to_list(),
    )
    for key, value in ours.items():
        if getattr(theirs, key) != value:
            raise DeployError(
                f'{onnx_model.onnx_file} was exported from a model with '
                f'other {key} ({getattr(theirs, key)}) than {checkpoint} '
                f'({value}); compare a checkpoint with its own export '
                '(tools/deployment/export_onnx.py)'
            )


def compare(
    cfg: Config,
    torch_model: nn.Module,
    onnx_model: nn.Module,
    split: str = 'test',
    batch_size: Optional[int] = None,
) -> dict:
    """Run both models on a split and compare them (see the module doc).

    Args:
        cfg (:obj:`Config`): Config with ``<split>_dataloader`` and
            ``<split>_evaluator``.
        torch_model (nn.Module): The PyTorch detector, weights loaded.
        onnx_model (:obj:`OnnxAttrMask2Former`): The exported graph.
        split (str): ``'test'`` or ``'val'``.
        batch_size (int, optional): Images per batch; default the static
            graph's batch, or the config's for a dynamic graph.

    Returns:
        dict: ``images``, ``logits``, ``instances`` and ``metrics`` (see
        the module doc).
    """
    loader_cfg = copy.deepcopy(cfg[f'{split}_dataloader'])
    batch_size = batch_size or onnx_model.info.input_shape[0]
    if batch_size:
        loader_cfg['batch_size'] = batch_size
    loader = Runner.build_dataloader(loader_cfg)
    evaluators = {}
    for name in BACKENDS:
        evaluators[name] = Evaluator(copy.deepcopy(cfg[f'{split}_evaluator']))
        evaluators[name].dataset_meta = loader.dataset.metainfo
    names = onnx_model.output_names
    logits = LogitStats(names[:1] + names[2:] + names[1:2])
    instances = InstanceStats()
    graph = AttrMask2FormerGraph(torch_model).eval()
    with tqdm(total=len(loader.dataset), desc='parity', unit='img') as bar:
        for batch in loader:
            with torch.no_grad():
                inputs = torch_model.data_preprocessor(batch, False)['inputs']
                expected = graph(inputs)
                got = onnx_model.run(inputs)
                # class, attributes, then masks (the report's order)
                logits.add(
                    (expected[0], *expected[2:], expected[1]),
                    (got[0], *got[2:], got[1]),
                )
                preds = dict(
                    pytorch=torch_model.test_step(batch),
                    onnxruntime=onnx_model.test_step(batch),
                )
            for exp, out in zip(preds['pytorch'], preds['onnxruntime']):
                instances.add(exp.pred_instances, out.pred_instances)
            for name in BACKENDS:
                evaluators[name].process(
                    data_samples=preds[name], data_batch=batch
                )
            bar.update(len(batch['inputs']))
    logger = MMLogger.get_current_instance()
    level = logger.level
    # the COCO tables of two evaluations (logged and printed) would bury
    # the comparison; the metrics are in the report
    logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            metrics = {
                name: evaluators[name].evaluate(len(loader.dataset))
                for name in BACKENDS
            }
    finally:
        logger.setLevel(level)
    return dict(
        images=len(loader.dataset),
        logits=logits.report(),
        instances=instances.report(),
        metrics=_metric_rows(metrics),
    )


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.out and osp.exists(args.out) and not args.force:
        print(
            f'error: {args.out} exists; pass --force to overwrite it',
            file=sys.stderr,
        )
        return 2
    try:
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        # loaded as the export loads it (weights_only, strict, names
        # completed and checked)
        torch_model = AttrInferencer(
            cfg, args.checkpoint, device='cpu', show_progress=False
        ).model.eval()
        onnx_model = MODELS.build(
            dict(type='OnnxAttrMask2Former', onnx_file=args.onnx)
        )
        check_same_names(torch_model, onnx_model, args.checkpoint)
        report = compare(
            cfg, torch_model, onnx_model, args.split, args.batch_size
        )
    except (DeployError, ValueError, FileNotFoundError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    report = dict(
        config=args.config,
        checkpoint=args.checkpoint,
        onnx=args.onnx,
        input_shape=onnx_model.info.input_shape,
        split=args.split,
        targets=dict(logits=LOGIT_TOL, mask_iou=MIN_IOU, metrics=METRIC_TOL),
        **report,
    )
    report['failed'] = _failures(report)
    _print_report(report)
    if args.out:
        for row in report['metrics'].values():
            row.update(json_metrics(row))
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'report written to {args.out}')
    return 1 if report['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
