"""The IF-Net as an mmengine model: trained by the Runner to regress warps."""

from typing import Dict, List, Optional, Union

import torch
from mmdet.registry import MODELS
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.model import BaseModel
from torch import Tensor

from .net import InverseFormNet


@MODELS.register_module()
class InverseFormRegressor(BaseModel):
    """Train an :class:`InverseFormNet` to regress ``log(A)`` of tile pairs.

    The network is the submodule ``net``, so a checkpoint of the Runner
    holds its weights under ``net.``;
    :meth:`InverseFormNet.from_checkpoint` loads such a checkpoint (the
    architecture is read from the weight shapes).

    The loss is the mean squared error of the regressed generators, over
    the pairs whose target tile has boundary (without any there is nothing
    to align). In ``predict`` mode the pairs flagged ``attack`` are also
    given to :meth:`attack`, which searches small changes of the predicted
    tile that lower the distance without moving a boundary; the distance
    left is reported (see ``docs/inverseform.md``).

    Args:
        net (dict): :class:`InverseFormNet` arguments (``tile_size``,
            ``channels``, ``hidden``).
        attack_cfg (dict): ``steps`` and ``eps`` (largest change per pixel)
            of :meth:`attack`. Defaults to ``dict(steps=10, eps=0.3)``.
        data_preprocessor (dict, optional): Defaults to mmengine's
            ``BaseDataPreprocessor`` (moves the data to the device).
        init_cfg (dict | list[dict], optional): Initialisation config.
    """

    def __init__(
        self,
        net: OptConfigType = None,
        attack_cfg: OptConfigType = None,
        data_preprocessor: OptConfigType = None,
        init_cfg: OptMultiConfig = None,
    ) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg
        )
        self.net = InverseFormNet(**(net or {}))
        self.attack_cfg = dict(dict(steps=10, eps=0.3), **(attack_cfg or {}))

    def forward(
        self,
        inputs: Tensor,
        data_samples: Optional[Dict[str, Tensor]] = None,
        mode: str = 'tensor',
    ) -> Union[Dict[str, Tensor], List[dict], Tensor]:
        """Regress the generators of a batch of tile pairs.

        Args:
            inputs (Tensor): Predicted (channel 0) and target (channel 1)
                boundary tiles, shape (B, K, 2, S, S).
            data_samples (dict[str, Tensor], optional): ``generators``
                (B, K, 2, 3), the true ``log(A)``, and ``attack`` (B, K),
                the pairs to attack in ``predict`` mode.
            mode (str): ``'tensor'``, ``'loss'`` or ``'predict'``.

        Returns:
            Tensor | dict | list[dict]: ``'tensor'``: generators
            (B, K, 2, 3). ``'loss'``: ``dict(loss_mse=...)``. ``'predict'``:
            per sample a dict of ``pred_generators`` and ``gt_generators``
            (K, 2, 3), ``distances``, ``attacked`` (NaN where not attacked)
            and ``has_gt`` (K, ).
        """
        num, warps = inputs.shape[:2]
        # (B, K, 2, S, S) -> (B * K, 1, S, S) x 2
        pred, target = inputs.flatten(0, 1).split(1, dim=1)
        if mode == 'tensor':
            return self.net(pred, target).view(num, warps, 2, 3)
        has_gt = target.flatten(1).amax(dim=1) > 0
        # (B, K, 2, 3) -> (B * K, 2, 3)
        truth = data_samples['generators'].flatten(0, 1)
        if mode == 'loss':
            found = self.net(pred, target)
            error = (found - truth).square().flatten(1).mean(dim=1)
            loss = (error * has_gt).sum() / has_gt.sum().clamp(min=1)
            return dict(loss_mse=loss)
        if mode == 'predict':
            return self.predict(pred, target, truth, has_gt, data_samples)
        raise RuntimeError(
            f'InverseFormRegressor got mode={mode!r}; use "tensor", "loss" '
            'or "predict"'
        )

    def predict(
        self,
        pred: Tensor,
        target: Tensor,
        truth: Tensor,
        has_gt: Tensor,
        data_samples: Dict[str, Tensor],
    ) -> List[dict]:
        """Regressed generators, distances and attacked distances.

        Args:
            pred (Tensor): Predicted tiles (B * K, 1, S, S).
            target (Tensor): Target tiles (B * K, 1, S, S).
            truth (Tensor): True generators (B * K, 2, 3).
            has_gt (Tensor): Pairs with target boundary, (B * K, ).
            data_samples (dict[str, Tensor]): With ``attack`` (B, K).

        Returns:
            list[dict]: One dict per sample, see :meth:`forward`.
        """
        num, warps = data_samples['attack'].shape
        found = self.net(pred, target)
        # (B * K, 2, 3) -> (B * K, )
        distances = torch.linalg.vector_norm(found.flatten(1), dim=1)
        attacked = torch.full_like(distances, float('nan'))
        chosen = data_samples['attack'].flatten().bool()
        if chosen.any():
            with torch.enable_grad():
                tiles = self.attack(pred[chosen], target[chosen])
            attacked[chosen] = self.net.distance(tiles, target[chosen])
        fields = dict(
            pred_generators=found,
            gt_generators=truth,
            distances=distances,
            attacked=attacked,
            has_gt=has_gt,
        )
        # (B * K, ...) -> B x (K, ...)
        fields = {
            k: v.detach().view(num, warps, *v.shape[1:]).cpu()
            for k, v in fields.items()
        }
        return [{k: v[i] for k, v in fields.items()} for i in range(num)]

    def attack(self, pred: Tensor, target: Tensor) -> Tensor:
        """Predicted tiles changed to look aligned to the net.

        A segmentation model trained through the frozen net can lower the
        distance by changes that move no boundary. This searches such
        changes: ``attack_cfg['steps']`` signed-gradient steps, each pixel
        within ``attack_cfg['eps']``, from a random start.

        Args:
            pred (Tensor): Predicted boundary tiles (N, 1, S, S) in [0, 1].
            target (Tensor): Target boundary tiles (N, 1, S, S).

        Returns:
            Tensor: The changed tiles (N, 1, S, S), detached, in [0, 1].
        """
        steps, eps = self.attack_cfg['steps'], self.attack_cfg['eps']
        delta = (torch.rand_like(pred) * 2 - 1) * eps / 2
        step = 2.5 * eps / steps
        for _ in range(steps):
            delta.requires_grad_(True)
            dist = self.net.distance((pred + delta).clamp(0, 1), target)
            (grad,) = torch.autograd.grad(dist.sum(), delta)
            delta = (delta.detach() - step * grad.sign()).clamp(-eps, eps)
        return (pred + delta).clamp(0, 1).detach()
