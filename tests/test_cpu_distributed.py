"""Distributed training without CUDA through registered components:
SafeRunner starts gloo before mmengine's launcher would call
torch.cuda.set_device, and wraps the model in CPUDistributedDataParallel
(no device_ids, SyncBN reverted). tests/test_tools checks two processes
with tools/dist_train.sh."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest
import torch

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason='checks the path without CUDA'
)

SCRIPT = textwrap.dedent("""
    import torch
    from mmengine.model import BaseModel
    import mmmultilabel  # noqa: F401
    from mmmultilabel.engine import CPUDistributedDataParallel, SafeRunner

    class Net(BaseModel):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)
            self.bn = torch.nn.SyncBatchNorm(4)

        def forward(self, inputs, labels=None, mode='tensor'):
            out = self.bn(self.conv(inputs)).mean((1, 2, 3))
            if mode == 'loss':
                return dict(loss=((out - labels) ** 2).mean())
            return out

    data = [dict(inputs=torch.rand(3, 8, 8), labels=torch.tensor(0.5))
            for _ in range(4)]
    runner = SafeRunner(
        model=Net(), work_dir=WORK_DIR, launcher='pytorch',
        env_cfg=dict(dist_cfg=dict(backend='nccl')),  # a GPU config
        train_dataloader=dict(
            dataset=data, sampler=dict(type='DefaultSampler'),
            batch_size=2, collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=2),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                           interval=2, by_epoch=False)),
        default_scope='mmdet')
    runner.train()
    assert torch.distributed.get_backend() == 'gloo'
    assert isinstance(runner.model, CPUDistributedDataParallel)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                   for m in runner.model.modules())
    print('trained', runner.iter)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_safe_runner_trains_with_a_launcher_on_cpu(tmp_path):
    env = dict(
        os.environ,
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(_free_port()),
    )
    script = SCRIPT.replace('WORK_DIR', repr(str(tmp_path)))
    proc = subprocess.run(
        [sys.executable, '-c', script],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert 'trained 2' in proc.stdout
    assert 'backend \'nccl\' replaced by "gloo"' in log
