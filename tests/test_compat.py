"""Each shim of mmmultilabel.utils.compat, with proof that it is needed."""

import os
import pickle
import socket
import subprocess
import sys
import textwrap

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmmultilabel.utils import compat


def test_all_shims_applied_on_import():
    assert 'checkpoint_weights_only' in compat.APPLIED
    assert 'cpu_distributed' in compat.APPLIED
    if not torch.cuda.is_available():
        assert 'cuda_set_device' in compat.APPLIED


def test_mmengine_checkpoint_loads_under_weights_only_default(tmp_path):
    # mmengine stores its HistoryBuffer in checkpoints' message_hub state.
    ckpt = dict(
        meta=dict(epoch=1), message_hub=HistoryBuffer([1.0, 2.0], [1, 1])
    )
    path = str(tmp_path / 'epoch_1.pth')
    torch.save(ckpt, path)
    # Without the shim, torch >= 2.6 refuses the file.
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        torch.load(path)
    loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert isinstance(loaded['message_hub'], HistoryBuffer)


def test_missing_checkpoint_names_the_file(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        CheckpointLoader.load_checkpoint(missing)


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU machine')
def test_cuda_set_device_is_noop_without_cuda():
    torch.cuda.set_device(0)  # raises without the shim


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(torch.cuda.is_available(), reason='needs a CPU machine')
def test_distributed_init_and_ddp_on_cpu():
    """mmengine's launcher path with its GPU defaults: nccl, device_ids,
    SyncBN, torch.cuda.set_device. All of them fail on CPU without the
    shims."""
    script = textwrap.dedent("""
        import warnings
        import torch
        import mmmultilabel  # noqa: F401
        from mmengine.dist import init_dist, get_world_size
        from mmengine.model.wrappers import MMDistributedDataParallel
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            init_dist('pytorch', backend='nccl')
        assert any('gloo' in str(w.message) for w in caught)
        assert torch.distributed.get_backend() == 'gloo'
        model = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3), torch.nn.SyncBatchNorm(4))
        ddp = MMDistributedDataParallel(
            module=model, device_ids=[0], broadcast_buffers=False)
        assert not any(isinstance(m, torch.nn.SyncBatchNorm)
                       for m in ddp.module.modules())
        out = ddp(torch.rand(2, 3, 8, 8))
        out.sum().backward()
        print('ok', get_world_size())
    """)
    env = dict(
        os.environ,
        RANK='0',
        LOCAL_RANK='0',
        WORLD_SIZE='1',
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(_free_port()),
    )
    proc = subprocess.run(
        [sys.executable, '-c', script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('ok 1')
