"""Learned task weights from homoscedastic uncertainty (Kendall et al.)."""

import re
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmdet.registry import MODELS
from torch import Tensor

#: A loss key: an optional decoder layer prefix, ``loss_``, the task.
_LOSS_KEY = re.compile(r'(?:d\d+\.)?loss_(.+)')


@MODELS.register_module()
class UncertaintyTaskWeights(nn.Module):
    """Weigh every task's loss by a learned ``exp(-s)``, plus ``s``.

    Kendall, Gal and Cipolla, "Multi-Task Learning Using Uncertainty to
    Weigh Losses for Scene Geometry and Semantics", CVPR 2018: each task
    ``t`` has a learned log-variance ``s_t`` (initially 0) and its loss
    ``L_t`` becomes ``L_t * exp(-s_t) + s_t``. Minimising over ``s_t``
    gives ``exp(s_t) = L_t``: a task with a large loss is weighed down.

    The keys of a Mask2Former loss dict name the task after the last
    ``loss_``: ``loss_cls`` and ``d0.loss_cls`` are task ``cls``. Every
    decoder layer's loss of a task is weighed by the task's one ``s_t``
    and gets its own ``+ s_t``, as the layers' losses are terms of their
    own.

    Args:
        tasks (Sequence[str]): Task names, e.g. ``['cls', 'mask', 'dice',
            'attr_color']``.
    """

    def __init__(self, tasks: Sequence[str]) -> None:
        super().__init__()
        self.tasks = list(tasks)
        # (T, ): s_t of every task
        self.log_vars = nn.Parameter(torch.zeros(len(self.tasks)))

    @staticmethod
    def task_of(key: str) -> Optional[str]:
        """The task of a loss key (``'d1.loss_attr_size'`` -> ``'attr_size'``),
        None for a key of another form."""
        match = _LOSS_KEY.fullmatch(key)
        return match.group(1) if match else None

    def forward(self, losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Weigh the losses of the tasks; other keys pass unchanged.

        Args:
            losses (dict[str, Tensor]): Scalar losses.

        Returns:
            dict[str, Tensor]: The same keys, each task loss replaced by
            ``loss * exp(-s_t) + s_t``, then ``task_weight_<t>``: the
            weight ``exp(-s_t)`` of every task, detached (logged, not
            summed: the key holds no ``loss``).
        """
        index = {task: i for i, task in enumerate(self.tasks)}
        out = {}
        for key, loss in losses.items():
            i = index.get(self.task_of(key))
            out[key] = (
                loss
                if i is None
                else loss * torch.exp(-self.log_vars[i]) + self.log_vars[i]
            )
        weights = torch.exp(-self.log_vars.detach())
        for task, weight in zip(self.tasks, weights.unbind()):
            out[f'task_weight_{task}'] = weight
        return out
