"""The inverse-transformation network (IF-Net) of the InverseForm loss.

Borse et al., "InverseForm: A Loss Function for Structured Boundary-Aware
Segmentation", CVPR 2021. The IF-Net looks at a predicted and a
ground-truth boundary tile and regresses the affine transform that maps one
onto the other; :class:`~mmmultilabel.inverseform.InverseFormLoss` uses the
distance of that transform from the identity as a loss.

Conventions used here and by
:class:`~mmmultilabel.inverseform.InverseFormPairDataset`:

* An affine transform ``A`` acts on tile-normalised coordinates (``[-1, 1]``
  across the tile, as :func:`torch.nn.functional.affine_grid` with
  ``align_corners=False``): the prediction tile is
  ``pred(p) = target(A p)``.
* The network regresses the *generator* ``L = log(A)`` (a 2x3 matrix, the
  top rows of the 3x3 matrix logarithm), not ``A`` itself:
  ``log(A^-1) = -log(A)``, so swapping the two inputs must negate the
  output. The network is antisymmetric by construction,
  ``f(x, y) = g(x, y) - g(y, x)``: identical tiles give ``L = 0`` (up to
  float rounding).
* The distance is ``||L||_F``; to first order it equals the paper's
  ``||A - I||_F``. A shift by ``t`` pixels in a tile of ``S`` pixels gives
  ``2 t / S``; a rotation by ``r`` radians ``sqrt(2) r``; a uniform scaling
  by ``s`` gives ``sqrt(2) |log s|``.
"""

import math
import os.path as osp
from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from mmmultilabel.utils.checkpoint import checkpoint_safe_globals

from .affine import (  # noqa: F401  (re-exported)
    affine_from_generator,
    random_generators,
)

CHECKPOINT_FORMAT = 'mmmultilabel-ifnet-v1'


class InverseFormNet(nn.Module):
    """IF-Net: regress the affine transform between two boundary tiles.

    A small CNN ``g`` (two coordinate channels, four stride-2 3x3
    convolutions, two linear layers) reads a stacked pair of tiles; the
    output is ``g(pred, target) - g(target, pred)`` reshaped to the 2x3
    generator
    ``log(A)`` (see the module docstring). It has no normalisation or
    dropout layers, so train and eval modes compute the same function.

    Args:
        tile_size (int): Side ``S`` of the square tiles, a multiple of 16.
            Defaults to 64.
        channels (int): Channels of the first convolution; the others have
            2x and 4x as many. Defaults to 16.
        hidden (int): Width of the hidden linear layer. Defaults to 256.
    """

    def __init__(
        self, tile_size: int = 64, channels: int = 16, hidden: int = 256
    ) -> None:
        super().__init__()
        if tile_size < 16 or tile_size % 16:
            raise ValueError(
                f'InverseFormNet tile_size must be a multiple of 16 (four '
                f'stride-2 convolutions), got {tile_size}'
            )
        self.tile_size = tile_size
        self.channels = channels
        self.hidden = hidden
        c1, c2, c3 = channels, 2 * channels, 4 * channels
        self.convs = nn.Sequential(
            nn.Conv2d(4, c1, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c2, c3, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c3, 3, stride=2, padding=1),
            nn.ReLU(inplace=True),
        )
        side = tile_size // 16
        self.fc = nn.Sequential(
            nn.Linear(c3 * side * side, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, 6),
        )
        # Start at "no transform" as spatial transformers do.
        nn.init.zeros_(self.fc[-1].weight)
        nn.init.zeros_(self.fc[-1].bias)
        coords = torch.linspace(
            -1 + 1 / tile_size, 1 - 1 / tile_size, tile_size
        )
        grid_y, grid_x = torch.meshgrid(coords, coords, indexing='ij')
        # (2, S, S): x then y, the order of affine_grid
        self.register_buffer(
            'coords', torch.stack([grid_x, grid_y]), persistent=False
        )

    @property
    def config(self) -> Dict[str, int]:
        """The constructor arguments, as saved in checkpoints."""
        return dict(
            tile_size=self.tile_size,
            channels=self.channels,
            hidden=self.hidden,
        )

    def _check(self, pred: Tensor, target: Tensor) -> None:
        size = (self.tile_size, self.tile_size)
        for name, tiles in (('pred', pred), ('target', target)):
            if tiles.dim() != 4 or tiles.shape[1] != 1:
                raise ValueError(
                    f'InverseFormNet expects {name} tiles of shape '
                    f'(N, 1, {size[0]}, {size[1]}), got {tuple(tiles.shape)}'
                )
        if pred.shape != target.shape:
            raise ValueError(
                f'InverseFormNet got pred tiles {tuple(pred.shape)} and '
                f'target tiles {tuple(target.shape)}; they must match'
            )
        if tuple(pred.shape[-2:]) != size:
            raise ValueError(
                f'InverseFormNet was built for {size[0]}x{size[1]} tiles, got '
                f'{pred.shape[-2]}x{pred.shape[-1]}; resize the boundary maps '
                'or set the loss grid so that tiles have this size'
            )

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Regress the generator ``log(A)`` with ``pred(p) = target(A p)``.

        Args:
            pred (Tensor): Predicted boundary tiles in [0, 1], shape
                (N, 1, S, S).
            target (Tensor): Ground-truth boundary tiles, shape (N, 1, S, S).

        Returns:
            Tensor: Generators of shape (N, 2, 3); swapping ``pred`` and
            ``target`` negates them.
        """
        self._check(pred, target)
        num = pred.shape[0]
        coords = self.coords.to(pred.dtype).expand(num, -1, -1, -1)
        # (N, 1, S, S) x 2 -> (2N, 4, S, S): both orders in one batch
        pairs = torch.cat(
            [
                torch.cat([pred, target, coords], dim=1),
                torch.cat([target, pred, coords], dim=1),
            ]
        )
        # (2N, C, S/16, S/16) -> (2N, C * S^2 / 256) -> (2N, 6)
        out = self.fc(self.convs(pairs).flatten(1))
        forward, backward = out.split(num)
        # (N, 6) -> (N, 2, 3)
        return (forward - backward).view(num, 2, 3)

    def distance(self, pred: Tensor, target: Tensor) -> Tensor:
        """``||log(A)||_F`` per tile pair: 0 for identical tiles.

        Args:
            pred (Tensor): Shape (N, 1, S, S).
            target (Tensor): Shape (N, 1, S, S).

        Returns:
            Tensor: Shape (N, ).
        """
        # (N, 2, 3) -> (N, )
        return torch.linalg.vector_norm(self(pred, target).flatten(1), dim=1)

    def save(self, path: str, meta: Optional[dict] = None) -> None:
        """Save weights and architecture for :meth:`from_checkpoint`.

        Args:
            path (str): Output file (``.pth``).
            meta (dict, optional): Extra information (training data,
                iterations, errors); plain Python values only.
        """
        torch.save(
            dict(
                format=CHECKPOINT_FORMAT,
                config=self.config,
                meta=dict(meta or {}),
                state_dict={k: v.cpu() for k, v in self.state_dict().items()},
            ),
            path,
        )

    @classmethod
    def from_checkpoint(
        cls, path: str, map_location: str = 'cpu'
    ) -> Tuple['InverseFormNet', dict]:
        """Load a network from a checkpoint of the Runner or of :meth:`save`.

        A Runner checkpoint of :class:`InverseFormRegressor` (what
        ``tools/train.py configs/inverseform/ifnet_*.py`` writes) holds the
        weights under ``net.``; the architecture is read from their shapes.
        Both load with ``torch.load(weights_only=True)`` (mmengine's own
        globals allowed, see :mod:`mmmultilabel.utils.checkpoint`).

        Args:
            path (str): Checkpoint file.
            map_location (str): Device to load the tensors to. Defaults to
                ``'cpu'``.

        Returns:
            tuple[InverseFormNet, dict]: The network, in eval mode, and the
            checkpoint's ``meta`` (for a Runner checkpoint: ``iter``,
            ``cfg``, ``seed``...).
        """
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'IF-Net checkpoint not found: {path}; train one on your '
                'data set with `python tools/train.py '
                'configs/inverseform/ifnet_s64_1xb32-3k_shapes.py` (set its '
                'data, see docs/inverseform.md) and give its iter_*.pth'
            )
        with checkpoint_safe_globals(path):
            ckpt = torch.load(
                path, map_location=map_location, weights_only=True
            )
        if isinstance(ckpt, dict) and ckpt.get('format') == CHECKPOINT_FORMAT:
            config, state_dict = ckpt['config'], ckpt['state_dict']
        else:
            state_dict = _runner_state_dict(ckpt)
            if state_dict is None:
                raise ValueError(
                    f'{path} is not an IF-Net checkpoint: neither '
                    f'format={CHECKPOINT_FORMAT!r} nor a Runner checkpoint '
                    'of InverseFormRegressor (state_dict keys net.*)'
                )
            config = _config_from_weights(path, state_dict)
        net = cls(**config)
        net.load_state_dict(state_dict)
        return net.eval(), ckpt.get('meta', {})


def _runner_state_dict(ckpt) -> Optional[Dict[str, Tensor]]:
    """The ``net.`` weights of a Runner checkpoint, without the prefix."""
    if not isinstance(ckpt, dict) or not isinstance(
        ckpt.get('state_dict'), dict
    ):
        return None
    prefix = 'net.'
    state_dict = {
        k[len(prefix) :]: v
        for k, v in ckpt['state_dict'].items()
        if k.startswith(prefix)
    }
    return state_dict or None


def _config_from_weights(path: str, state_dict: Dict[str, Tensor]) -> dict:
    """``tile_size``, ``channels`` and ``hidden`` from the weight shapes."""
    try:
        channels = state_dict['convs.0.weight'].shape[0]
        hidden, features = state_dict['fc.0.weight'].shape
    except KeyError as err:
        raise ValueError(
            f'{path}: the IF-Net weights lack {err}; the checkpoint is of '
            'another network'
        ) from None
    side = math.isqrt(features // (4 * channels))
    if 4 * channels * side * side != features:
        raise ValueError(
            f'{path}: fc.0 takes {features} features, which is not '
            f'4 * {channels} channels * (tile_size / 16)^2'
        )
    return dict(tile_size=16 * side, channels=channels, hidden=hidden)
