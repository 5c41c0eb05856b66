"""mmengine's Runner with safe checkpoint loading and CPU distribution."""

import contextlib
from typing import Dict, Iterator, Optional, Union

import torch
from mmdet.registry import RUNNERS
from mmengine.dist import is_distributed
from mmengine.runner import Runner
from torch import nn

from mmmultilabel.utils import InputError
from mmmultilabel.utils.checkpoint import (
    CheckpointGlobalError,
    checkpoint_safe_globals,
)

from .dist import init_cpu_dist


@RUNNERS.register_module()
class SafeRunner(Runner):
    """``Runner`` that loads checkpoints with ``weights_only=True`` and
    trains distributed on machines without CUDA.

    Everything is mmengine's ``Runner`` except three hooks:

    * :meth:`load_checkpoint` and :meth:`resume` (``load_from`` and
      ``resume``) run under :func:`checkpoint_safe_globals`: PyTorch's
      ``weights_only`` unpickler with exactly the globals mmengine's
      checkpoints hold, plus the config's ``checkpoint_safe_globals`` (full
      names of further globals the user trusts). Any other global is
      refused with a message that names it.
    * :meth:`setup_env`: with a launcher but no CUDA, the process group is
      created with gloo before mmengine's launcher would call
      ``torch.cuda.set_device``.
    * :meth:`wrap_model`: with a launcher but no CUDA, the model is wrapped
      in :class:`CPUDistributedDataParallel` (no ``device_ids``, SyncBN
      reverted) instead of ``MMDistributedDataParallel``.

    Select it with ``runner_type = 'SafeRunner'`` in a config whose
    ``default_scope`` is ``mmdet`` (every mmmultilabel detection config
    does), ``'mmdet.SafeRunner'`` in other scopes (e.g. mmseg configs);
    ``tools/train.py`` and ``tools/test.py`` use it for configs that name
    no runner.
    """

    @contextlib.contextmanager
    def _safe_globals(self, filename: str) -> Iterator[None]:
        """Load under the safe globals; a checkpoint the model refuses (e.g.
        ``AttrMask2FormerHead``'s other mask inputs) is named."""
        extra = self.cfg.get('checkpoint_safe_globals', None) or ()
        try:
            with checkpoint_safe_globals(filename, extra):
                yield
        except CheckpointGlobalError:
            raise
        except InputError as err:
            raise InputError(f'{filename}: {err}') from err

    def load_checkpoint(self, filename: str, *args, **kwargs) -> Dict:
        """``Runner.load_checkpoint`` with ``weights_only`` loading."""
        with self._safe_globals(filename):
            return super().load_checkpoint(filename, *args, **kwargs)

    def resume(self, filename: str, *args, **kwargs) -> None:
        """``Runner.resume`` with ``weights_only`` loading."""
        with self._safe_globals(filename):
            return super().resume(filename, *args, **kwargs)

    def setup_env(self, env_cfg: Dict) -> None:
        """Create a gloo process group first when CUDA is absent."""
        if (
            self.distributed
            and not torch.cuda.is_available()
            and not is_distributed()
        ):
            init_cpu_dist(self.launcher, **env_cfg.get('dist_cfg', {}))
        super().setup_env(env_cfg)

    def wrap_model(
        self, model_wrapper_cfg: Optional[Dict], model: nn.Module
    ) -> Union[nn.Module, nn.parallel.DistributedDataParallel]:
        """Wrap in ``CPUDistributedDataParallel`` when CUDA is absent."""
        if self.distributed and not torch.cuda.is_available():
            cfg = dict(model_wrapper_cfg or {})
            if cfg.get('type', 'MMDistributedDataParallel') in (
                'MMDistributedDataParallel',
                'mmengine.MMDistributedDataParallel',
            ):
                # Scoped: mmengine looks wrappers up in its root registry.
                cfg['type'] = 'mmdet.CPUDistributedDataParallel'
                cfg.setdefault('broadcast_buffers', False)
                cfg.setdefault(
                    'find_unused_parameters',
                    self.cfg.get('find_unused_parameters', False),
                )
            model_wrapper_cfg = cfg
        return super().wrap_model(model_wrapper_cfg, model)


def build_runner(cfg, safe_globals=None) -> Runner:
    """Build the config's runner, ``SafeRunner`` when it names none.

    Args:
        cfg (Config): Full config.
        safe_globals (list[str], optional): Further globals to allow in
            checkpoints (``--safe-globals``), appended to the config's
            ``checkpoint_safe_globals``.

    Returns:
        Runner: ``RUNNERS.build(cfg)``.
    """
    if 'runner_type' not in cfg:
        cfg.runner_type = 'mmdet.SafeRunner'
    if safe_globals:
        cfg.checkpoint_safe_globals = list(
            cfg.get('checkpoint_safe_globals', None) or []
        ) + list(safe_globals)
    return RUNNERS.build(cfg)
