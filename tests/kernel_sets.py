"""Run a command again as on another CPU: another kernel set, one thread.

PyTorch's CPU results depend on the instruction set its kernels use and on
the number of threads: ATen picks AVX512, AVX2 or ``default`` kernels
(``ATEN_CPU_CAPABILITY`` forces one), oneDNN's convolutions and MKL's matrix
products pick their own (``ONEDNN_MAX_CPU_ISA``, ``MKL_ENABLE_INSTRUCTIONS``
cap them). A test whose tolerance holds only for the kernels of the machine
that wrote it fails under the other set, here instead of on a user's
machine.

The other set is one step down for all three libraries: an AVX512 machine
runs as an AVX2 one (the kernels of most laptops and of AMD EPYC up to
Zen 3; this reproduces such a machine's floats bit for bit), an AVX2 machine
with ATen's ``default`` kernels and SSE4 in oneDNN and MKL, and a machine
already forced to ``default`` with its native kernels.

Usage::

    python tests/kernel_sets.py -- python -m pytest -m numeric tests

runs the command once under the other kernel set and once with one thread,
and exits with 1 if either failed.
"""

import argparse
import os
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

# capability -> (the one below it, caps of oneDNN and MKL for that one)
_STEP_DOWN = {
    'AVX512': ('avx2', 'AVX2', 'AVX2'),
    'AVX2': ('default', 'SSE41', 'SSE4_2'),
}
_KERNEL_VARS = (
    'ATEN_CPU_CAPABILITY',
    'ONEDNN_MAX_CPU_ISA',
    'MKL_ENABLE_INSTRUCTIONS',
)
_THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')


def capability(env: Dict[str, str]) -> str:
    """ATen's kernel set in a process started with ``env``."""
    return subprocess.run(
        [
            sys.executable,
            '-c',
            'import torch; print(torch.backends.cpu.get_cpu_capability())',
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def other_kernel_env(env: Dict[str, str]) -> Optional[Dict[str, str]]:
    """``env`` changed to the other kernel set, or None if there is none
    (a CPU with only the ``default`` kernels)."""
    current = capability(env)
    other = dict(env)
    if current in _STEP_DOWN:
        aten, onednn, mkl = _STEP_DOWN[current]
        other.update(
            ATEN_CPU_CAPABILITY=aten,
            ONEDNN_MAX_CPU_ISA=onednn,
            MKL_ENABLE_INSTRUCTIONS=mkl,
        )
        return other
    for name in _KERNEL_VARS:
        other.pop(name, None)
    return other if capability(other) != current else None


def one_thread_env(env: Dict[str, str]) -> Dict[str, str]:
    return dict(env, **{name: '1' for name in _THREAD_VARS})


def describe(env: Dict[str, str]) -> str:
    names = _KERNEL_VARS + _THREAD_VARS
    changed = [f'{n}={env[n]}' for n in names if n in env]
    return ' '.join(changed) or '(native kernels, all threads)'


def run_passes(command: List[str]) -> int:
    base = dict(os.environ)
    passes: List[Tuple[str, Optional[Dict[str, str]]]] = [
        ('other kernel set', other_kernel_env(base)),
        ('one thread', one_thread_env(base)),
    ]
    failed = []
    for name, env in passes:
        if env is None:
            print(f'== {name}: this CPU has no other kernel set; skipped')
            continue
        print(f'== {name}: {describe(env)} {" ".join(command)}', flush=True)
        start = time.monotonic()
        code = subprocess.call(command, env=env)
        print(
            f'== {name}: exit {code} in {time.monotonic() - start:.0f} s',
            flush=True,
        )
        if code != 0:
            failed.append(name)
    if failed:
        print(f'== failed under: {", ".join(failed)}')
        return 1
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('command', nargs='+', help='command to run, after --')
    args = parser.parse_args(argv)
    return run_passes(args.command)


if __name__ == '__main__':
    sys.exit(main())
