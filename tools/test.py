"""Evaluate a checkpoint with MMEngine's Runner.

Examples:
    python tools/test.py CONFIG CHECKPOINT
    python tools/test.py CONFIG CHECKPOINT --show-dir vis   # drawn predictions
    python tools/test.py CONFIG CHECKPOINT --out preds.pkl
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""

import argparse
import json
import os
import os.path as osp
import sys

from mmdet.engine.hooks.utils import trigger_visualization_hook
from mmdet.evaluation import DumpDetResults
from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.utils import mkdir_or_exist
from runner_cli import add_safe_globals_argument, load_config, user_errors

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.engine import build_runner
from mmmultilabel.evaluation import json_metrics


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a multi-attribute model'
    )
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where metrics and logs go')
    parser.add_argument(
        '--out', help='dump predictions to a .pkl file for offline use'
    )
    parser.add_argument(
        '--metrics-out',
        help='write the final metrics as JSON to this file (refuses to '
        'overwrite an existing file unless --force)',
    )
    parser.add_argument(
        '--force',
        action='store_true',
        help='overwrite an existing --metrics-out file',
    )
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window'
    )
    parser.add_argument(
        '--show-dir',
        help='save predictions drawn with attributes next to the ground '
        'truth, under WORK_DIR/TIMESTAMP/SHOW_DIR',
    )
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds per --show'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=4',
    )
    add_safe_globals_argument(parser)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _run(cfg: Config, args: argparse.Namespace) -> dict:
    """Build the runner and test; returns the metrics."""
    runner = build_runner(cfg, args.safe_globals)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpDetResults(out_file_path=args.out)
        )
    return runner.test()


def main(argv=None) -> None:
    args = parse_args(argv)
    for path, what in (
        (args.config, 'config'),
        (args.checkpoint, 'checkpoint'),
    ):
        if not osp.isfile(path):
            sys.exit(f'error: {what} file not found: {path}')
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        sys.exit(f'error: --out must end with .pkl or .pickle: {args.out}')
    if args.metrics_out and osp.exists(args.metrics_out) and not args.force:
        sys.exit(
            f'error: {args.metrics_out} exists; pass --force to '
            'overwrite it'
        )

    cfg = load_config(
        args.config, args.launcher, args.cfg_options, args.work_dir
    )
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        cfg = trigger_visualization_hook(cfg, args)

    with user_errors():
        metrics = _run(cfg, args)
    if args.metrics_out and is_main_process():
        mkdir_or_exist(osp.dirname(osp.abspath(args.metrics_out)))
        with open(args.metrics_out, 'w') as f:
            # NaN (an attribute AP nothing measures) is written as null
            json.dump(json_metrics(metrics), f, indent=2, default=float)
        print(f'metrics written to {args.metrics_out}')


if __name__ == '__main__':
    main()
