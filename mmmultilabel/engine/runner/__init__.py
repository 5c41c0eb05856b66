from mmmultilabel.utils.checkpoint import (
    CheckpointGlobalError,
    checkpoint_safe_globals,
    mmengine_checkpoint_globals,
)

from .dist import init_cpu_dist
from .model_wrapper import CPUDistributedDataParallel
from .safe_runner import SafeRunner, build_runner

__all__ = [
    'CheckpointGlobalError',
    'checkpoint_safe_globals',
    'mmengine_checkpoint_globals',
    'init_cpu_dist',
    'CPUDistributedDataParallel',
    'SafeRunner',
    'build_runner',
]
