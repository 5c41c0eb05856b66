"""Time and memory of AttrCocoDataset against mmdet's CocoDataset, at the
size of real attribute data sets.

A seeded generator writes a Fashionpedia-form annotation file (default:
45,623 images, ~7 instances each, polygon masks, ``attribute_ids`` from 294
values in 9 multi-label super-categories, as Fashionpedia's training split
is shaped); nothing is downloaded. Each data set is then built in a whole
process of its own, the sides interleaved, ``--repeats`` times, in three
cases:

* ``train, first load``: as a training config builds it
  (``filter_cfg=dict(filter_empty_gt=True, min_size=32)``), the record of
  validated files empty (a fresh ``MMMULTILABEL_CACHE_DIR``): the file is
  validated in full;
* ``train, cached``: the same, the file recorded as valid by the run
  before (every later training start, rank and worker);
* ``test``: ``test_mode=True``, the file recorded as valid.

Per run: the time to import the packages (reported apart, no target), the
time from construction to a ready data set (``full_init``: load,
validate, parse, filter, serialize), the peak resident memory of the
process (``ru_maxrss``) and the size of the serialized data list that
every DataLoader worker and rank shares. Medians are compared; the exit
status is 1 when a ratio exceeds its target (time 1.3x, peak memory
1.25x, serialized size 1.2x).

Example:
    python tools/analysis_tools/bench_dataset.py --images 45623
    python tools/analysis_tools/bench_dataset.py --images 2000 --repeats 1
"""

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional

import numpy as np

TARGETS = dict(time=1.3, peak_mem=1.25, serialized=1.2)
CATEGORIES = 46
GROUPS = 9
VALUES = 294
#: Case -> (mode of both sides, whether AttrCocoDataset finds the record of
#: validated files empty).
CASES = {
    'train, first load': ('train', True),
    'train, cached': ('train', False),
    'test': ('test', False),
}

CHILD = """
import json, resource, sys, time
kind, ann_file, classes, mode = sys.argv[1:5]
t0 = time.perf_counter()
if kind == 'coco':
    from mmdet.datasets import CocoDataset as cls
else:
    from mmmultilabel.datasets import AttrCocoDataset as cls
t1 = time.perf_counter()
if mode == 'test':
    kwargs = dict(test_mode=True)
else:
    kwargs = dict(filter_cfg=dict(filter_empty_gt=True, min_size=32))
ds = cls(ann_file=ann_file, data_prefix=dict(img=''),
         metainfo=dict(classes=tuple(json.loads(classes))), **kwargs)
ds.full_init()
t2 = time.perf_counter()
print(json.dumps(dict(
    imports=t1 - t0,
    time=t2 - t1,
    peak_mem=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    serialized=int(ds.data_bytes.nbytes),
    images=len(ds))))
"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=45623)
    parser.add_argument(
        '--instances', type=float, default=7.0, help='mean instances per image'
    )
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--keep', help='write the generated file here')
    return parser.parse_args(argv)


def make_fashionpedia(
    num_images: int, mean_instances: float, seed: int
) -> dict:
    """A Fashionpedia-form annotation dict of the given size."""
    rng = np.random.default_rng(seed)
    per_group = np.full(GROUPS, VALUES // GROUPS)
    per_group[: VALUES % GROUPS] += 1
    attributes, groups_of = [], []
    for g, n in enumerate(per_group):
        for _ in range(n):
            attributes.append(
                dict(
                    id=len(attributes),
                    name=f'attr{len(attributes)}',
                    supercategory=f'group{g}',
                    level=1,
                )
            )
            groups_of.append(g)
    categories = [
        dict(id=i, name=f'cat{i}', supercategory='garment')
        for i in range(CATEGORIES)
    ]
    images, annotations = [], []
    counts = rng.poisson(mean_instances - 1, num_images) + 1
    ann_id = 1
    for n in range(num_images):
        w, h = int(rng.integers(400, 1200)), int(rng.integers(400, 1200))
        images.append(
            dict(id=n + 1, width=w, height=h, file_name=f'{n + 1:08d}.jpg')
        )
        for _ in range(int(counts[n])):
            bw, bh = rng.uniform(20, w / 2), rng.uniform(20, h / 2)
            x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
            k = int(rng.integers(8, 24))
            angle = np.sort(rng.uniform(0, 2 * np.pi, k))
            px = x + bw / 2 * (1 + np.cos(angle))
            py = y + bh / 2 * (1 + np.sin(angle))
            poly = np.round(np.stack([px, py], 1).ravel(), 2).tolist()
            attr_ids = sorted(
                set(
                    rng.choice(
                        VALUES, int(rng.integers(0, 6)), replace=False
                    ).tolist()
                )
            )
            annotations.append(
                dict(
                    id=ann_id,
                    image_id=n + 1,
                    category_id=int(rng.integers(0, CATEGORIES)),
                    segmentation=[poly],
                    area=float(bw * bh * 0.78),
                    bbox=[
                        round(x, 2),
                        round(y, 2),
                        round(bw, 2),
                        round(bh, 2),
                    ],
                    iscrowd=0,
                    attribute_ids=attr_ids,
                )
            )
            ann_id += 1
    return dict(
        info={},
        licenses=[],
        images=images,
        annotations=annotations,
        categories=categories,
        attributes=attributes,
    )


def measure(
    kind: str, ann_file: str, classes: List[str], mode: str, cache_dir: str
) -> Dict:
    """Build one data set in a fresh process and report its figures."""
    proc = subprocess.run(
        [sys.executable, '-c', CHILD, kind, ann_file, json.dumps(classes)]
        + [mode],
        capture_output=True,
        text=True,
        env=dict(
            os.environ, OMP_NUM_THREADS='1', MMMULTILABEL_CACHE_DIR=cache_dir
        ),
    )
    if proc.returncode != 0:
        raise RuntimeError(f'{kind} data set failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_all(
    ann_file: str, classes: List[str], repeats: int, tmp: str
) -> Dict[tuple, List[Dict]]:
    """``{(side, case or mode): [figures of each run]}``: per repeat,
    CocoDataset in training mode, AttrCocoDataset's first and cached
    training loads, then both in test mode."""
    runs: Dict[tuple, List[Dict]] = {}
    for r in range(repeats):
        cache_dir = osp.join(tmp, f'cache{r}')  # empty: a first load
        for case, (mode, first) in CASES.items():
            if first or mode != 'train':  # one train run serves both
                runs.setdefault(('coco', mode), []).append(
                    measure('coco', ann_file, classes, mode, cache_dir)
                )
            runs.setdefault(('attr', case), []).append(
                measure('attr', ann_file, classes, mode, cache_dir)
            )
    return runs


def report(runs: Dict) -> int:
    """Print each median ratio next to its target; 1 if any is missed."""
    status = 0
    print(
        f'{"case":<19}{"figure":<12}{"CocoDataset":>14}{"AttrCocoDataset":>18}'
        f'{"ratio":>8}{"target":>8}'
    )
    rows = [
        (case, key, target)
        for case in CASES
        for key, target in TARGETS.items()
    ]
    rows += [(case, 'imports', None) for case in CASES]
    for case, key, target in rows:
        mode = CASES[case][0]
        stock = statistics.median(r[key] for r in runs[('coco', mode)])
        ours = statistics.median(r[key] for r in runs[('attr', case)])
        ratio = ours / stock
        unit, scale = (
            ('MB', 2**20) if key != 'time' and key != 'imports' else ('s', 1)
        )
        missed = target is not None and ratio > target
        status |= missed
        print(
            f'{case:<19}{key:<12}{stock / scale:>12.2f}{unit:>2}'
            f'{ours / scale:>16.2f}{unit:>2}{ratio:>8.2f}'
            + (f'{target:>8.2f}' if target else f'{"-":>8}')
            + ('  MISSED' if missed else '')
        )
    return int(status)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    data = make_fashionpedia(args.images, args.instances, args.seed)
    classes = [c['name'] for c in data['categories']]
    print(
        f'{len(data["images"])} images, {len(data["annotations"])} '
        f'instances, {CATEGORIES} categories, {VALUES} attribute values '
        f'in {GROUPS} groups; medians of {args.repeats} run(s) per side'
    )
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = args.keep or osp.join(tmp, 'fashionpedia_like.json')
        with open(ann_file, 'w') as f:
            json.dump(data, f)
        del data
        runs = run_all(ann_file, classes, args.repeats, tmp)
    return report(runs)


if __name__ == '__main__':
    sys.exit(main())
