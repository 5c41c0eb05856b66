"""``import mmmultilabel`` registers modules and changes nothing else: the
library functions it used to replace are the originals afterwards, torch's
weights_only allow-list and mmengine's checkpoint loaders are untouched. The
same holds for ``import mmmultilabel.inverseform``."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import importlib
    import os
    import sys
    import torch
    import torch.distributed
    import mmengine.dist.utils as dist_utils
    import mmdet.models, mmdet.evaluation, mmdet.datasets  # noqa: F401
    from mmengine.model.wrappers import MMDistributedDataParallel
    from mmdet.registry import MODEL_WRAPPERS, RUNNERS
    from mmengine.runner.checkpoint import CheckpointLoader

    def snapshot():
        return dict(
            set_device=torch.cuda.set_device,
            torch_load=torch.load,
            init_pytorch=dist_utils._init_dist_pytorch,
            init_slurm=dist_utils._init_dist_slurm,
            init_dist=dist_utils.init_dist,
            ddp_init=MMDistributedDataParallel.__init__,
            loaders=dict(CheckpointLoader._schemes),
            safe_globals=list(torch.serialization.get_safe_globals()),
            weights_only_env=os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'),
            default_dtype=torch.get_default_dtype(),
            threads=torch.get_num_threads(),
        )

    before = snapshot()
    importlib.import_module(sys.argv[1])
    after = snapshot()
    changed = [k for k in before if before[k] is not after[k]
               and before[k] != after[k]]
    print('changed:', changed)
    # Registration is what the import does.
    assert RUNNERS.get('SafeRunner') is not None
    assert MODEL_WRAPPERS.get('CPUDistributedDataParallel') is not None
""")


@pytest.mark.parametrize(
    'module', ['mmmultilabel', 'mmmultilabel.inverseform']
)
def test_import_changes_no_library_function(module):
    proc = subprocess.run(
        [sys.executable, '-c', SCRIPT, module],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'changed: []' in proc.stdout, proc.stdout
