"""Distributed data parallel for models on the CPU."""

from mmengine.model import MMDistributedDataParallel, revert_sync_batchnorm
from mmengine.registry import MODEL_WRAPPERS
from torch import nn


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` for a module that lives on the CPU.

    mmengine's Runner passes ``device_ids=[LOCAL_RANK]``, which DDP only
    accepts for GPU modules, and SyncBN has no CPU kernel. This wrapper
    drops ``device_ids`` / ``output_device`` and turns SyncBN layers back
    into BN; everything else is ``MMDistributedDataParallel``.
    :class:`~mmmultilabel.engine.SafeRunner` picks it when CUDA is absent.

    Args:
        module (nn.Module): Model on the CPU.
        **kwargs: Arguments of ``MMDistributedDataParallel``.
    """

    def __init__(self, module: nn.Module, **kwargs) -> None:
        kwargs.pop('device_ids', None)
        kwargs.pop('output_device', None)
        super().__init__(module=revert_sync_batchnorm(module), **kwargs)
