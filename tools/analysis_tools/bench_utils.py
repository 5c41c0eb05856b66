"""What the benchmarks against stock mmdet share: the demo config, the
shapes data made on demand, and timing without garbage collection."""

import gc
import os.path as osp
import subprocess
import sys
import time
from typing import Callable, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(
    REPO,
    'configs',
    'mask2former-attr',
    'mask2former-attr_r18_1xb8-1500i_shapes.py',
)


def make_shapes(data_root: str, num_train: int, num_val: int) -> None:
    """Write a shapes data set of the given split sizes to ``data_root``
    with ``tools/dataset_converters/make_shapes.py``."""
    subprocess.run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'dataset_converters', 'make_shapes.py'),
            data_root,
            '--num-train',
            str(num_train),
            '--num-val',
            str(num_val),
            '--no-progress',
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def timed(fn: Callable[[], object]) -> Tuple[float, float]:
    """Wall-clock and CPU seconds of ``fn()``, without garbage collection
    in it.

    As ``timeit``, the collector is run before the call and paused while
    it runs, so that a collection started by one side's garbage is not
    charged to the other.
    """
    gc.collect()
    gc.disable()
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        gc.enable()
