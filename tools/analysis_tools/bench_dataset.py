"""Time and memory of AttrCocoDataset against mmdet's CocoDataset, at the
size of real attribute data sets.

A seeded generator writes a Fashionpedia-form annotation file (default:
45,623 images, ~7 instances each, polygon masks, ``attribute_ids`` from 294
values in 9 multi-label super-categories, as Fashionpedia's training split
is shaped); nothing is downloaded. Each data set is then built in its own
process, one after the other, ``--repeats`` times: the time from
construction to a ready data set (``full_init``: load, validate, parse,
serialize), the peak resident memory of the process, and the size of the
serialized data list that every DataLoader worker and rank shares. The
exit status is 1 when a ratio exceeds its target (time 1.3x, peak memory
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

CHILD = """
import json, resource, sys, time
t0 = time.perf_counter()
from mmdet.datasets import CocoDataset
import mmmultilabel  # noqa: F401
from mmmultilabel.datasets import AttrCocoDataset
cls = dict(coco=CocoDataset, attr=AttrCocoDataset)[sys.argv[1]]
t1 = time.perf_counter()
ds = cls(ann_file=sys.argv[2], data_prefix=dict(img=''), test_mode=True,
         metainfo=dict(classes=tuple(json.loads(sys.argv[3]))))
ds.full_init()
t2 = time.perf_counter()
item = ds.get_data_info(len(ds) - 1)
print(json.dumps(dict(
    time=t2 - t1,
    peak_mem=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    serialized=int(ds.data_bytes.nbytes),
    instances=sum(len(ds.get_data_info(i)['instances'])
                  for i in range(0, len(ds), max(1, len(ds) // 50))),
    images=len(ds))))
"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--images', type=int, default=45623)
    parser.add_argument(
        '--instances', type=float, default=7.0, help='mean instances per image'
    )
    parser.add_argument('--repeats', type=int, default=2)
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


def measure(kind: str, ann_file: str, classes: List[str]) -> Dict:
    """Build one data set in a fresh process and report its figures."""
    proc = subprocess.run(
        [sys.executable, '-c', CHILD, kind, ann_file, json.dumps(classes)],
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    if proc.returncode != 0:
        raise RuntimeError(f'{kind} data set failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    data = make_fashionpedia(args.images, args.instances, args.seed)
    classes = [c['name'] for c in data['categories']]
    print(
        f'{len(data["images"])} images, {len(data["annotations"])} '
        f'instances, {CATEGORIES} categories, {VALUES} attribute values '
        f'in {GROUPS} groups'
    )
    with tempfile.TemporaryDirectory() as tmp:
        ann_file = args.keep or osp.join(tmp, 'fashionpedia_like.json')
        with open(ann_file, 'w') as f:
            json.dump(data, f)
        del data
        runs: Dict[str, List[Dict]] = dict(coco=[], attr=[])
        for _ in range(args.repeats):
            for kind in ('coco', 'attr'):  # interleaved
                runs[kind].append(measure(kind, ann_file, classes))
    status = 0
    print(
        f'{"figure":<12}{"CocoDataset":>16}{"AttrCocoDataset":>18}'
        f'{"ratio":>8}{"target":>8}'
    )
    for key, target in TARGETS.items():
        stock = statistics.median(r[key] for r in runs['coco'])
        ours = statistics.median(r[key] for r in runs['attr'])
        ratio = ours / stock
        unit, scale = ('s', 1) if key == 'time' else ('MB', 2**20)
        print(
            f'{key:<12}{stock / scale:>14.2f}{unit:>2}'
            f'{ours / scale:>16.2f}{unit:>2}{ratio:>8.2f}{target:>8.2f}'
        )
        if ratio > target:
            status = 1
    return status


if __name__ == '__main__':
    sys.exit(main())
