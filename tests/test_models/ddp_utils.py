"""Helpers of the distributed tests: fixed point sampling, replayed
assignments, a gloo worker.

Mask2Former draws random points twice per decoder layer: ``torch.rand``
points per image for the matching (``_get_targets_single``) and
``get_uncertain_point_coords_with_randomness`` per matched mask for the mask
and dice losses. The draws depend on how the batch is split and in which
order the images come, so two ranks on half a batch each cannot draw what one
process on the whole batch draws. :func:`fixed_point_sampling` replaces both
by the same fixed points for every image and mask, which makes a step a
function of the weights and the data only.

The Hungarian assignment is the other discrete decision of a step: with a
freshly initialised model several queries cost nearly the same for a ground
truth, and two computations that differ only by rounding (a convolution on
one image or on two, another kernel set) may pick different queries, which
moves the gradient by 1e-3 instead of 1e-6. :func:`replayed_assignments`
logs the assignments of one run and makes another use them, so that both
differentiate the same loss.

The third is inside the backbone: ReLU and max pooling route the gradient by
comparisons of activations, and oneDNN's convolution rounds an image's
activations differently in a batch of one and in a batch of two (1e-6 with
its AVX2 kernels), enough to flip a near-tie and move a backbone gradient by
1e-3. PyTorch's own convolution computes every image of a batch alone, the
same bits whatever the batch: :func:`same_decisions` turns oneDNN off.
"""

import contextlib
import socket
from typing import Dict, Iterator, List, Optional, Sequence

import torch
import torch.distributed as dist
from mmcv.ops import point_sample
from mmdet.models.task_modules import AssignResult, HungarianAssigner
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


# img_id -> the assigner's gt_inds (num_queries, ) for that image, one per
# call (one per decoder layer, in layer order)
Assignments = Dict[int, List[Tensor]]


@contextlib.contextmanager
def replayed_assignments(
    log: Assignments, replay: Optional[Assignments] = None
) -> Iterator[None]:
    """Log every ``HungarianAssigner.assign`` in ``log``; with ``replay``,
    return the assignment logged there instead of the one computed.

    The assigner still computes its costs and its own assignment (which
    goes to ``log``), so the code path is the normal one; only the query
    chosen for each ground truth comes from ``replay``, keyed by the
    image's ``img_id`` and the call's rank among that image's calls.
    """
    from unittest import mock

    assign = HungarianAssigner.assign

    def logged_assign(self, pred_instances, gt_instances, img_meta, **kw):
        result = assign(self, pred_instances, gt_instances, img_meta, **kw)
        calls = log.setdefault(int(img_meta['img_id']), [])
        calls.append(result.gt_inds.clone())
        if replay is None:
            return result
        gt_inds = replay[int(img_meta['img_id'])][len(calls) - 1]
        gt_inds = gt_inds.to(result.gt_inds).clone()
        labels = torch.full_like(gt_inds, -1)
        matched = gt_inds > 0
        labels[matched] = gt_instances.labels[gt_inds[matched] - 1]
        return AssignResult(
            num_gts=result.num_gts,
            gt_inds=gt_inds,
            max_overlaps=None,
            labels=labels,
        )

    with mock.patch.object(HungarianAssigner, 'assign', logged_assign):
        yield


def differing_assignments(a: Assignments, b: Assignments) -> int:
    """Number of assigner calls whose assignments differ between logs."""
    assert a.keys() == b.keys()
    assert all(len(a[k]) == len(b[k]) for k in a)
    return sum(not torch.equal(x, y) for k in a for x, y in zip(a[k], b[k]))


@contextlib.contextmanager
def same_decisions(
    log: Assignments, replay: Optional[Assignments] = None
) -> Iterator[None]:
    """A training step whose discrete decisions do not depend on how the
    batch is split: fixed points, the assignments of ``replay`` (logged in
    ``log``) and convolutions computed image by image."""
    with (
        fixed_point_sampling(),
        replayed_assignments(log, replay),
        torch.backends.mkldnn.flags(enabled=False),
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
    replay: Sequence[Optional[Assignments]],
) -> None:
    """One rank of a DDP training step on its share of the batch.

    Joins a gloo process group on localhost, wraps the model (built from
    ``model_cfg``, loaded with ``state_dict``) in PyTorch's
    ``DistributedDataParallel``, and for every batch of ``batches`` (one
    per scenario, already split: this rank gets image ``rank``) runs the loss
    under :func:`same_decisions` with the assignments of ``replay`` (one
    log per batch, see :func:`replayed_assignments`) and backpropagates
    the sum of the losses not in ``skip``. DDP averages the gradients over
    the ranks. Rank 0 saves ``[(gradients, assignments), ...]`` (one per
    batch; ``assignments``: what the assigner computed on either rank) to
    ``out_path``.
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
        for batch, replayed in zip(batches, replay):
            share = dict(
                inputs=batch['inputs'][rank : rank + 1],
                data_samples=batch['data_samples'][rank : rank + 1],
            )
            data = model.data_preprocessor(share, True)
            model.zero_grad(set_to_none=True)
            computed: Assignments = {}
            with same_decisions(computed, replayed):
                losses = ddp(**data, mode='loss')
            step_losses(losses, skip).backward()
            every_rank = [None] * world_size
            dist.all_gather_object(every_rank, computed)
            computed = {k: v for log in every_rank for k, v in log.items()}
            results.append((gradients(model), computed))
        if rank == 0:
            torch.save(results, out_path)
    finally:
        dist.destroy_process_group()
