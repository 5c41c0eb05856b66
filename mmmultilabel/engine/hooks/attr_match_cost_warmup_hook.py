"""Ramp the attribute match costs of the Hungarian matcher up from zero."""

from typing import Dict, List, Optional

from mmdet.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

DATA_BATCH = Optional[dict]


@HOOKS.register_module()
class AttrMatchCostWarmupHook(Hook):
    """Scale the matcher's attribute costs linearly from 0 to their weight.

    While the attribute classifiers are still random, their costs only add
    noise to the Hungarian matching. Before training iteration ``i`` every
    attribute cost of the attribute head's assigner (its ``_attr_costs``:
    ``AttrClassificationCost``, ``AttrBinaryCrossEntropyCost``) gets
    ``weight * min(1, i / warmup_iters)``, with ``weight`` the value of the
    config. The attribute losses are not touched. The schedule follows the
    runner's iteration, so it continues correctly after a resume.

    Args:
        warmup_iters (int): Iterations until the configured weights are
            reached. Defaults to 500.
    """

    priority = 'NORMAL'

    def __init__(self, warmup_iters: int = 500) -> None:
        if warmup_iters <= 0:
            raise ValueError(
                f'AttrMatchCostWarmupHook: warmup_iters must be positive, '
                f'got {warmup_iters}'
            )
        self.warmup_iters = warmup_iters
        self._weights: Dict[int, float] = {}
        self._costs: List[object] = []

    def before_train(self, runner: Runner) -> None:
        """Find the attribute costs and remember their configured weights."""
        model = (
            runner.model.module
            if is_model_wrapper(runner.model)
            else runner.model
        )
        self._costs = [
            cost
            for module in model.modules()
            for cost in getattr(module, '_attr_costs', [])
        ]
        if not self._costs:
            raise ValueError(
                'AttrMatchCostWarmupHook: the model has no attribute match '
                'costs to warm up (train_cfg.assigner.match_costs holds no '
                'AttrClassificationCost or AttrBinaryCrossEntropyCost); '
                'remove the hook or add the costs'
            )
        self._weights = {id(cost): cost.weight for cost in self._costs}

    def before_train_iter(
        self, runner: Runner, batch_idx: int, data_batch: DATA_BATCH = None
    ) -> None:
        """Set the costs' weights for the coming iteration."""
        scale = min(1.0, runner.iter / self.warmup_iters)
        for cost in self._costs:
            cost.weight = self._weights[id(cost)] * scale

    def after_train(self, runner: Runner) -> None:
        """Leave the configured weights in place."""
        for cost in self._costs:
            cost.weight = self._weights[id(cost)]
