"""Train a model with MMEngine's Runner.

Examples:
    python tools/train.py configs/mask2former-attr/<config>.py
    python tools/train.py CONFIG --work-dir work_dirs/run1 --resume
    bash tools/dist_train.sh CONFIG 8            # 8 processes (GPUs or CPU)
"""

import argparse
import os
import os.path as osp
import sys

import torch
from mmengine.config import DictAction
from runner_cli import add_safe_globals_argument, load_config, user_errors

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.engine import build_runner


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train a multi-attribute instance segmentation model'
    )
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision (needs a GPU)',
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by total batch size / '
        'auto_scale_lr.base_batch_size (already on in mmmultilabel configs)',
    )
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint, or without a path from the '
        'latest checkpoint in the work directory',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. '
        'train_cfg.max_iters=100 train_dataloader.batch_size=4',
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


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = load_config(
        args.config, args.launcher, args.cfg_options, args.work_dir
    )

    if args.amp:
        if not torch.cuda.is_available():
            sys.exit(
                'error: --amp needs a CUDA GPU; none is available. '
                'Train without --amp on CPU.'
            )
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    amp_types = ('AmpOptimWrapper', 'mmengine.AmpOptimWrapper')
    wrapper_type = cfg.get('optim_wrapper', {}).get('type')
    if wrapper_type in amp_types and not torch.cuda.is_available():
        sys.exit(
            f'error: {args.config} trains with {wrapper_type} (mixed '
            'precision), which needs a CUDA GPU; none is available. Use the '
            'config without "amp" in its name, or '
            '--cfg-options optim_wrapper.type=OptimWrapper'
        )

    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            sys.exit(
                'error: --auto-scale-lr needs auto_scale_lr = dict('
                'base_batch_size=...) in the config'
            )
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            sys.exit(
                f'error: checkpoint to resume from not found: '
                f'{args.resume}'
            )
        cfg.resume = True
        cfg.load_from = args.resume

    with user_errors():
        build_runner(cfg, args.safe_globals).train()


if __name__ == '__main__':
    main()
