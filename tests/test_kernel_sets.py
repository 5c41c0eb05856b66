"""tests/kernel_sets.py: the second pass really runs other kernels."""

import os
import subprocess
import sys

import pytest
from kernel_sets import capability, one_thread_env, other_kernel_env


def test_other_pass_changes_the_kernels_torch_uses():
    env = dict(os.environ)
    native = capability(env)
    other = other_kernel_env(env)
    if other is None:
        pytest.skip(f'this CPU has only the {native} kernels')
    assert capability(other) != native
    # and back: from the lower set, the next pass is another set again
    again = other_kernel_env(other)
    assert again is not None and capability(again) != capability(other)


def test_one_thread_pass_runs_torch_on_one_thread():
    out = subprocess.run(
        [sys.executable, '-c', 'import torch; print(torch.get_num_threads())'],
        env=one_thread_env(dict(os.environ)),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.strip() == '1'
