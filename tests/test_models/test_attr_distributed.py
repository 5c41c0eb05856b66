"""Distributed training: collectives, normalisers across ranks, DDP step.

A rank whose image has no instance (or only unknown attributes) must run the
same collectives, in the same order, as a rank with matches; and the
attribute losses are divided by normalisers averaged over the ranks, as
mmdet's mask and dice losses, so that a DDP step equals one process's step
on the whole batch.
"""

import copy
from typing import List, Tuple
from unittest import mock

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from attr_model_utils import ATTRIBUTE_GROUPS, make_sample
from ddp_utils import (
    ddp_worker,
    differing_assignments,
    free_port,
    gradients,
    same_decisions,
    step_losses,
)
from mmdet.registry import MODELS

from mmmultilabel.utils import UNKNOWN, AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)
# One image per rank; the same size, so that batch padding is the same in
# one process and on two ranks.
SIZE = (64, 64)
# Two decoder layers and the prediction before the first.
NUM_LAYERS = 3


def image_batch(num_gts, seed=0, unknown=()) -> dict:
    """Raw batch of 64x64 images; images listed in ``unknown`` get all
    attributes unknown."""
    rng = np.random.RandomState(seed)
    inputs, samples = [], []
    for i, n in enumerate(num_gts):
        inputs.append(
            torch.from_numpy(rng.randint(0, 256, (3,) + SIZE, np.uint8))
        )
        sample = make_sample(*SIZE, n, rng, i, SPEC)
        if i in unknown:
            sample.gt_instances.attr_labels[:] = UNKNOWN
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


class _AllReduceLog:
    """Stands in for a process group of 2 ranks; logs every all_reduce.

    ``reduce_mean`` divides by the world size before its all_reduce, which
    here multiplies by ``factor``: 2 (the default) as if the other rank held
    the same values, 4 as if it held three times this rank's.
    """

    def __init__(self, factor: float = 2.0) -> None:
        self.factor = factor
        self.calls: List[Tuple[tuple, torch.dtype]] = []

    def all_reduce(self, tensor, op=None, **kwargs) -> None:
        self.calls.append((tuple(tensor.shape), tensor.dtype))
        tensor.mul_(self.factor)

    def __enter__(self):
        self._patches = [
            mock.patch.object(dist, 'is_initialized', return_value=True),
            mock.patch.object(dist, 'get_world_size', return_value=2),
            mock.patch.object(dist, 'all_reduce', self.all_reduce),
        ]
        for patch in self._patches:
            patch.start()
        return self

    def __exit__(self, *exc) -> None:
        for patch in reversed(self._patches):
            patch.stop()


def collectives(model, batch) -> List[Tuple[tuple, torch.dtype]]:
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    with _AllReduceLog() as log:
        model(**data, mode='loss')
    return log.calls


@pytest.mark.parametrize(
    'quiet_batch',
    [
        image_batch((0,)),
        image_batch((2,), unknown=(0,)),
    ],
    ids=['no-instance', 'unknown-attributes'],
)
def test_collectives_do_not_depend_on_the_data(attr_model, quiet_batch):
    busy = collectives(attr_model, image_batch((3,), seed=1))
    quiet = collectives(attr_model, quiet_batch)
    # Per decoder layer: mmdet's number of masks, then the normalisers of
    # the 3 attribute groups in one tensor.
    assert busy == [((1,), torch.float32), ((3,), torch.float32)] * NUM_LAYERS
    assert quiet == busy


def test_attribute_normalisers_are_averaged_over_the_ranks(attr_model):
    """Each group's loss is divided by the mean over the ranks of its
    summed weight of known targets."""
    batch = image_batch((3,), seed=1)
    data = attr_model.data_preprocessor(copy.deepcopy(batch), True)
    torch.manual_seed(0)
    local = attr_model(**copy.deepcopy(data), mode='loss')

    # The other rank's summed weights are 3 times this rank's: w / 2 -> 2w
    with _AllReduceLog(factor=4.0):
        torch.manual_seed(0)
        spread = attr_model(**copy.deepcopy(data), mode='loss')
    for group in SPEC.names:
        for prefix in ('', 'd0.', 'd1.'):
            name = f'{prefix}loss_attr_{group}'
            assert local[name] > 0, name
            # normaliser (w + 3w) / 2 = 2w instead of w
            torch.testing.assert_close(spread[name], local[name] / 2)


def single_process_gradients(model, batch, skip):
    """Gradients, losses and logged assignments of one process."""
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    model.zero_grad(set_to_none=True)
    assignments = {}
    with same_decisions(assignments):
        losses = model(**data, mode='loss')
    step_losses(losses, skip).backward()
    return gradients(model), losses, assignments


def test_ddp_step_on_two_ranks_equals_one_process_on_the_batch(
    attr_model_cfg, tmp_path
):
    """Two gloo processes, one image each, against one process on both.

    mmdet and the attribute head divide each rank's summed loss ``S_r`` by
    ``reduce_mean(n_r) = (n_0 + n_1) / 2`` (``n_r``: masks or summed weights
    of known attributes of rank ``r``), and DDP averages the gradients:
    ``(grad S_0 / (n / 2) + grad S_1 / (n / 2)) / 2 = grad (S_0 + S_1) / n``,
    the gradient of one process on both images. ``loss_cls`` is left out:
    mmdet divides it by each rank's own sum of class weights (so do the
    reference Mask2Former and stock mmdet), which differs between the ranks.
    Rank 0's image has no instance in one step and only unknown attributes
    in the other; rank 1's has three instances, so that mmdet's mean number
    of masks, 1.5, stays above its clamp at 1.

    Both sides take the same discrete decisions (``ddp_utils``): the random
    points of the matching and of the mask losses are fixed, the ranks
    replay the Hungarian assignments of the one process, and convolutions
    are computed image by image, so that no ReLU or max-pooling near-tie
    flips between a batch of two and a batch of one (with oneDNN's AVX2
    kernels one did: 1.7e-3 instead of 2e-6). What is left is float32
    rounding of the same sums in another order (the transformer's matrix
    products over one or two images, DDP's mean of two gradients): relative
    errors of a few 1e-7 per operation, grown by the depth of the network,
    well inside ``rtol=1e-4`` and ``atol=1e-6`` of the largest gradient.
    """
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(attr_model_cfg))
    model.train()
    state = copy.deepcopy(model.state_dict())
    skip = ('loss_cls',)
    batches = [
        image_batch((0, 3), seed=1),
        image_batch((2, 3), seed=2, unknown=(0,)),
    ]
    one_process = [single_process_gradients(model, b, skip) for b in batches]
    out = tmp_path / 'ddp_grads.pth'
    mp.start_processes(
        ddp_worker,
        args=(
            2,
            free_port(),
            copy.deepcopy(attr_model_cfg.to_dict()),
            state,
            batches,
            skip,
            str(out),
            [assignments for _, _, assignments in one_process],
        ),
        nprocs=2,
        join=True,
        start_method='spawn',
    )
    ddp_results = torch.load(out, weights_only=False)
    for (grads, losses, assignments), (ddp_grads, ddp_assignments) in zip(
        one_process, ddp_results
    ):
        assert losses['loss_attr_color'] > 0 and losses['loss_mask'] > 0
        # every decoder layer of both images was matched on either side
        assert sorted(assignments) == [0, 1]
        assert all(len(a) == NUM_LAYERS for a in assignments.values())
        diffs = {
            name: (ddp_grads[name] - grad).abs().max().item()
            for name, grad in grads.items()
        }
        scale = max(g.abs().max().item() for g in grads.values())
        worst = max(diffs, key=diffs.get)
        flipped = differing_assignments(assignments, ddp_assignments)
        print(
            f'max |grad DDP - grad one process| = {diffs[worst]:.3g} '
            f'({worst}); largest |grad| = {scale:.3g}; assignments the '
            f'ranks computed otherwise: {flipped} of {2 * NUM_LAYERS}'
        )
        assert grads['panoptic_head.attr_embed.weight'].abs().sum() > 0
        for name, grad in grads.items():
            torch.testing.assert_close(
                ddp_grads[name], grad, rtol=1e-4, atol=1e-6 * scale, msg=name
            )
