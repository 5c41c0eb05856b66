"""Count the operations that make the host wait for the device.

On a GPU these read a result on the host, so the CPU waits until the device
has caught up: reading a value (``item``, ``bool``, ``int``, ``float``: the
ATen op ``_local_scalar_dense``), ops whose output size depends on the data
(``nonzero``, ``unique``, ``masked_select``, boolean-mask indexing), and
copies to host memory (``cpu``, ``tolist``, ``numpy``). On a CPU none of
them waits, but they run all the same, so counting them here tells how many
synchronisations a step would have on a GPU.
"""

import collections
from typing import Counter
from unittest import mock

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# ATen ops that read data on the host or size their output by the data.
SYNC_OPS = {
    '_local_scalar_dense',
    'nonzero',
    'masked_select',
    'unique',
    '_unique',
    '_unique2',
    'unique_dim',
    'unique_consecutive',
    'repeat_interleave',
    'equal',
}
# ATen ops that sync only when indexed by a boolean mask.
MASK_INDEX_OPS = {'index', 'index_put', 'index_put_'}
# Tensor methods that copy to host memory (below ATen on a CPU tensor).
HOST_COPY_METHODS = ('cpu', 'tolist', 'numpy')


class _SyncOps(TorchDispatchMode):
    def __init__(self, counts: Counter) -> None:
        super().__init__()
        self.counts = counts

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in SYNC_OPS:
            self.counts[name] += 1
        elif name in MASK_INDEX_OPS and any(
            index is not None and index.dtype in (torch.bool, torch.uint8)
            for index in args[1]
        ):
            self.counts[f'{name}[mask]'] += 1
        return func(*args, **(kwargs or {}))


class HostSyncCounter:
    """Context manager counting host syncs by kind in ``counts``."""

    def __init__(self) -> None:
        self.counts: Counter = collections.Counter()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def _wrap(self, name: str):
        method = getattr(torch.Tensor, name)

        def counted(tensor, *args, **kwargs):
            self.counts[name] += 1
            return method(tensor, *args, **kwargs)

        return counted

    def __enter__(self) -> 'HostSyncCounter':
        self._patch = mock.patch.multiple(
            torch.Tensor, **{n: self._wrap(n) for n in HOST_COPY_METHODS}
        )
        self._patch.start()
        self._mode = _SyncOps(self.counts)
        self._mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._mode.__exit__(*exc)
        self._patch.stop()


def count_step_syncs(model: torch.nn.Module, data: dict) -> HostSyncCounter:
    """Host syncs of one training step (loss and backward) of ``model`` on
    preprocessed ``data``."""
    with HostSyncCounter() as counter:
        losses = model(**data, mode='loss')
        sum(losses.values()).backward()
    return counter
