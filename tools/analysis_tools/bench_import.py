"""Time and peak memory of ``import mmmultilabel`` against the stock
baseline a user of mmdet already pays (``import mmdet.models,
mmdet.datasets, mmdet.evaluation``).

Each side is imported in a fresh process, the two sides interleaved,
``--repeats`` times each after one unmeasured warm-up run per side: the
time of the import statement (``time.perf_counter``) and the peak resident
memory of the process (``ru_maxrss``). The medians are compared; the exit
status is 1 when ``import mmmultilabel`` costs more than ``--max-time``
seconds (default 0.3) or ``--max-mem`` MiB (default 20) over the baseline.
On a shared machine, other load widens the spread of both sides: raise
``--repeats``.

Example:
    python tools/analysis_tools/bench_import.py
    python tools/analysis_tools/bench_import.py --repeats 11
"""

import argparse
import json
import statistics
import subprocess
import sys
from typing import Dict, List, Optional

BASELINE = 'import mmdet.models, mmdet.datasets, mmdet.evaluation'
SIDES = dict(baseline=BASELINE, mmmultilabel='import mmmultilabel')

CHILD = """
import json, resource, sys, time
exec(sys.argv[2])
t0 = time.perf_counter()
exec(sys.argv[1])
t1 = time.perf_counter()
print(json.dumps(dict(
    time=t1 - t0,
    peak_mem=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    modules=len(sys.modules))))
"""

MIB = 1024**2


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--repeats', type=int, default=7, help='measured runs per side'
    )
    parser.add_argument(
        '--max-time', type=float, default=0.3, help='seconds over the baseline'
    )
    parser.add_argument(
        '--max-mem', type=float, default=20.0, help='MiB over the baseline'
    )
    return parser.parse_args(argv)


def measure(statement: str, before: str = '') -> Dict[str, float]:
    """Time, peak memory (bytes) and module count of ``statement`` run in
    a fresh interpreter (after ``before``, not timed)."""
    proc = subprocess.run(
        [sys.executable, '-c', CHILD, statement, before],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise SystemExit(f'{statement!r} failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    runs: Dict[str, List[Dict[str, float]]] = {side: [] for side in SIDES}
    for i in range(args.repeats + 1):
        for side, statement in SIDES.items():
            result = measure(statement)
            if i:  # the first run of each side warms the file cache
                runs[side].append(result)
    med = {
        side: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        for side, rs in runs.items()
    }
    print(f'median of {args.repeats} fresh processes per side, interleaved')
    print(f'{"":14}{"time (s)":>10}{"peak (MiB)":>12}{"modules":>9}')
    for side in SIDES:
        m = med[side]
        print(
            f'{side:14}{m["time"]:10.3f}{m["peak_mem"] / MIB:12.1f}'
            f'{m["modules"]:9.0f}'
        )
    d_time = med['mmmultilabel']['time'] - med['baseline']['time']
    d_mem = (
        med['mmmultilabel']['peak_mem'] - med['baseline']['peak_mem']
    ) / MIB
    d_mods = med['mmmultilabel']['modules'] - med['baseline']['modules']
    print(f'{"difference":14}{d_time:+10.3f}{d_mem:+12.1f}{d_mods:+9.0f}')
    # the same, less exposed to other load: what the import adds in a
    # process that has imported the baseline already
    added = statistics.median(
        measure(SIDES['mmmultilabel'], BASELINE)['time']
        for _ in range(args.repeats)
    )
    print(f'{"after baseline":14}{added:+10.3f}  (in one process)')
    print(f'{"target":14}{args.max_time:+10.3f}{args.max_mem:+12.1f}')
    missed = [
        name
        for name, over in (
            ('time', d_time > args.max_time),
            ('peak memory', d_mem > args.max_mem),
        )
        if over
    ]
    print('missed: ' + ', '.join(missed) if missed else 'targets met')
    return int(bool(missed))


if __name__ == '__main__':
    sys.exit(main())
