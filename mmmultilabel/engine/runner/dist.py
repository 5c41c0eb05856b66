"""Start a process group on a machine without CUDA.

mmengine's launchers always call ``torch.cuda.set_device(local_rank)``
before ``init_process_group``, which fails without CUDA. When the process
group already exists, the Runner skips them; :func:`init_cpu_dist` creates
it with gloo from the same environment variables (torchrun's, or slurm's as
mmengine reads them).
"""

import os
import subprocess
from datetime import timedelta
from typing import Optional

import torch.distributed as torch_dist
from mmengine.logging import print_log


def _slurm_env(port: Optional[int]) -> None:
    """Set torch's rendezvous variables from slurm's, as mmengine does."""
    node_list = os.environ['SLURM_NODELIST']
    os.environ.setdefault('MASTER_PORT', str(port or 29500))
    if 'MASTER_ADDR' not in os.environ:
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1'
        )
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def init_cpu_dist(
    launcher: str,
    backend: str = 'gloo',
    timeout: Optional[int] = None,
    port: Optional[int] = None,
    **kwargs,
) -> None:
    """Create the default process group with gloo, without CUDA calls.

    Args:
        launcher (str): ``'pytorch'`` (torchrun) or ``'slurm'``.
        backend (str): Requested backend; anything but gloo (e.g. the
            ``nccl`` of GPU configs) is replaced by gloo, with a warning.
        timeout (int, optional): Seconds, as ``env_cfg.dist_cfg.timeout``.
        port (int, optional): Master port for slurm.
        **kwargs: Further arguments of ``init_process_group``.

    Raises:
        ValueError: for a launcher other than pytorch or slurm.
    """
    if launcher == 'slurm':
        _slurm_env(port)
    elif launcher != 'pytorch':
        raise ValueError(
            f'launcher {launcher!r} is not supported without CUDA; use '
            '--launcher pytorch (tools/dist_train.sh) or slurm'
        )
    if backend != 'gloo':
        print_log(
            f'CUDA is not available: distributed backend {backend!r} '
            'replaced by "gloo" (set env_cfg.dist_cfg.backend="gloo" to '
            'silence this warning)',
            logger='current',
            level=30,
        )
    kwargs.pop('init_backend', None)  # mmengine's option, torch's here
    if timeout is not None:
        kwargs['timeout'] = timedelta(seconds=timeout)
    torch_dist.init_process_group(backend='gloo', **kwargs)
