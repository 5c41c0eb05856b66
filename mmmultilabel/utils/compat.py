"""Compatibility layer for the pinned OpenMMLab stack on current PyTorch.

mmengine 0.10.7, mmcv 2.1.0 and mmdet 3.3.0 predate PyTorch 2.6 and assume a
GPU for distributed training. ``import mmmultilabel`` applies the shims below
once; each one is narrow, idempotent, and does nothing where it is not needed:

1. :func:`patch_checkpoint_loading` - PyTorch >= 2.6 defaults ``torch.load``
   to ``weights_only=True`` and then refuses mmengine's own checkpoints
   (``Unsupported global: mmengine.logging.history_buffer.HistoryBuffer``) on
   ``resume=True`` and ``load_from``. The local-file checkpoint loader is
   re-registered to pass ``weights_only=False``. Only load checkpoints you
   trust, as with any pickle.
2. :func:`patch_cuda_set_device` - mmengine's launchers always call
   ``torch.cuda.set_device(local_rank)``; on a machine without CUDA this
   becomes a no-op instead of an error.
3. :func:`patch_cpu_distributed` - distributed training without CUDA:
   a requested ``nccl`` backend falls back to ``gloo`` (with a warning), and
   ``MMDistributedDataParallel`` drops the GPU ``device_ids`` the Runner
   passes and reverts SyncBN (which has no CPU kernel) when the wrapped model
   lives on the CPU.

:func:`apply` runs all of them; :data:`APPLIED` lists the shims in effect.
"""

import functools
import os.path as osp
import warnings
from typing import List

import torch

APPLIED: List[str] = []


def _once(name: str):
    """Run the decorated shim at most once; record it in APPLIED unless it
    returns False (not needed here)."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper():
            if name not in APPLIED and func() is not False:
                APPLIED.append(name)

        return wrapper

    return decorator


@_once('checkpoint_weights_only')
def patch_checkpoint_loading() -> None:
    """Let mmengine load its own local checkpoints under torch >= 2.6."""
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_from_local(filename, map_location):
        filename = osp.expanduser(filename)
        if not osp.isfile(filename):
            raise FileNotFoundError(f'{filename} can not be found.')
        return torch.load(
            filename, map_location=map_location, weights_only=False
        )

    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True
    )


@_once('cuda_set_device')
def patch_cuda_set_device() -> bool:
    """Make ``torch.cuda.set_device`` a no-op when CUDA is unavailable."""
    if torch.cuda.is_available():
        return False
    original = torch.cuda.set_device

    @functools.wraps(original)
    def set_device(device) -> None:
        return None

    torch.cuda.set_device = set_device
    return True


@_once('cpu_distributed')
def patch_cpu_distributed() -> None:
    """Use gloo and CPU-friendly DDP settings when CUDA is unavailable."""
    import mmengine.dist.utils as dist_utils
    from mmengine.model import revert_sync_batchnorm
    from mmengine.model.wrappers import MMDistributedDataParallel

    def gloo_when_no_cuda(init_fn):
        @functools.wraps(init_fn)
        def wrapper(backend, *args, **kwargs):
            if backend == 'nccl' and not torch.cuda.is_available():
                warnings.warn(
                    'CUDA is not available: distributed backend "nccl" '
                    'replaced by "gloo". Set env_cfg.dist_cfg.backend="gloo" '
                    'to silence this warning.'
                )
                backend = 'gloo'
            return init_fn(backend, *args, **kwargs)

        return wrapper

    dist_utils._init_dist_pytorch = gloo_when_no_cuda(
        dist_utils._init_dist_pytorch
    )
    dist_utils._init_dist_slurm = gloo_when_no_cuda(
        dist_utils._init_dist_slurm
    )

    original_init = MMDistributedDataParallel.__init__

    @functools.wraps(original_init)
    def __init__(self, module, *args, **kwargs):
        params = list(module.parameters())
        if params and all(p.device.type == 'cpu' for p in params):
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
            module = revert_sync_batchnorm(module)
        original_init(self, module, *args, **kwargs)

    MMDistributedDataParallel.__init__ = __init__


def apply() -> List[str]:
    """Apply every shim (idempotent) and return the names in effect."""
    patch_checkpoint_loading()
    patch_cuda_set_device()
    patch_cpu_distributed()
    return list(APPLIED)


apply()
