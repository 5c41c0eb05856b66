"""Helpers of the end-to-end tool tests: run a command, and the options
that shrink the CPU config to seconds per run."""

import os
import os.path as osp
import subprocess

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CPU_CONFIG = osp.join(
    REPO,
    'configs',
    'mask2former-attr',
    'mask2former-attr_r18_1xb8-1500i_shapes.py',
)


def run(cmd, cwd=REPO, timeout=300, env=None, check=True):
    """Run a command; on failure show its output tail."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    full_env.update(env or {})
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{cmd} exited {proc.returncode}\n--- stdout\n'
            f'{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}'
        )
    return proc


def fast_options(data_root, max_iters=2, interval=2):
    """--cfg-options that shrink the CPU config to seconds per run."""
    data_root = str(data_root) + '/'
    ann = data_root + 'annotations/'
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        f'val_evaluator.ann_file={ann}val.json',
        f'test_evaluator.ann_file={ann}val.json',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={interval}',
        f'default_hooks.checkpoint.interval={interval}',
        'default_hooks.logger.interval=1',
        'model.train_cfg.num_points=256',
    ]
