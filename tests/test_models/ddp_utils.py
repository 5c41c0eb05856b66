"""Helpers of the distributed tests: fixed point sampling, a gloo worker.

Mask2Former draws random points twice per decoder layer: ``torch.rand``
points per image for the matching (``_get_targets_single``) and
``get_uncertain_point_coords_with_randomness`` per matched mask for the mask
and dice losses. The draws depend on how the batch is split and in which
order the images come, so two ranks on half a batch each cannot draw what one
process on the whole batch draws. :func:`fixed_point_sampling` replaces both
by the same fixed points for every image and mask, which makes a step a
function of the weights and the data only.
"""

import contextlib
import socket
from typing import Dict, Iterator, List, Sequence

import torch
import torch.distributed as dist
from mmcv.ops import point_sample
from mmdet.registry import MODELS
from mmengine.config import ConfigDict
from torch import Tensor


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def fixed_points(num: int, num_points: int) -> Tensor:
    """The same ``num_points`` points in ``[0, 1]^2`` for ``num`` masks.

    Returns:
        Tensor: Shape (num, num_points, 2).
    """
    gen = torch.Generator().manual_seed(0)
    return torch.rand(1, num_points, 2, generator=gen).expand(num, -1, -1)


@contextlib.contextmanager
def fixed_point_sampling() -> Iterator[None]:
    """Make every point sampling of Mask2Former's training read fixed points.

    The matching's ``point_sample`` (in the attribute head's module) gets
    :func:`fixed_points` of the shape of the random points it was given; the
    loss's ``get_uncertain_point_coords_with_randomness`` (in mmdet's
    ``mask2former_head`` module) returns them.
    """
    from unittest import mock

    def sample_at_fixed_points(inputs: Tensor, coords: Tensor, **kwargs):
        fixed = fixed_points(coords.shape[0], coords.shape[1])
        return point_sample(inputs, fixed.to(coords), **kwargs)

    def fixed_uncertain_points(mask_preds: Tensor, labels, num_points, *args):
        return fixed_points(mask_preds.shape[0], num_points).to(mask_preds)

    with (
        mock.patch(
            'mmmultilabel.models.dense_heads.attr_mask2former_head.'
            'point_sample',
            sample_at_fixed_points,
        ),
        mock.patch(
            'mmdet.models.dense_heads.mask2former_head.'
            'get_uncertain_point_coords_with_randomness',
            fixed_uncertain_points,
        ),
    ):
        yield


def step_losses(losses: Dict[str, Tensor], skip: Sequence[str]) -> Tensor:
    """Sum of the losses whose names do not end with one of ``skip``."""
    return sum(
        value
        for name, value in losses.items()
        if not any(name.endswith(s) for s in skip)
    )


def gradients(model: torch.nn.Module) -> Dict[str, Tensor]:
    """Copy of every parameter's gradient (zeros where it has none)."""
    return {
        name: (
            torch.zeros_like(p) if p.grad is None else p.grad.detach().clone()
        )
        for name, p in model.named_parameters()
    }


def ddp_worker(
    rank: int,
    world_size: int,
    port: int,
    model_cfg: dict,
    state_dict: dict,
    batches: List[dict],
    skip: Sequence[str],
    out_path: str,
) -> None:
    """One rank of a DDP training step on its share of the batch.

    Joins a gloo process group on localhost, wraps the model (built from
    ``model_cfg``, loaded with ``state_dict``) in PyTorch's
    ``DistributedDataParallel``, and for every batch of ``batches`` (one
    per scenario, already split: this rank gets image ``rank``) runs the loss
    with :func:`fixed_point_sampling` and backpropagates the sum of the
    losses not in ``skip``. DDP averages the gradients over the ranks. Rank 0
    saves ``[gradients, ...]`` (one dict per batch) to ``out_path``.
    """
    torch.set_num_threads(1)
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=world_size,
    )
    try:
        from mmdet.utils import register_all_modules

        import mmmultilabel  # noqa: F401

        register_all_modules(init_default_scope=True)
        model = MODELS.build(ConfigDict(model_cfg))
        model.load_state_dict(state_dict)
        model.train()
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        results = []
        for batch in batches:
            share = dict(
                inputs=batch['inputs'][rank : rank + 1],
                data_samples=batch['data_samples'][rank : rank + 1],
            )
            data = model.data_preprocessor(share, True)
            model.zero_grad(set_to_none=True)
            with fixed_point_sampling():
                losses = ddp(**data, mode='loss')
            step_losses(losses, skip).backward()
            results.append(gradients(model))
        if rank == 0:
            torch.save(results, out_path)
    finally:
        dist.destroy_process_group()
