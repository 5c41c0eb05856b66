"""Time and memory of the attribute evaluation against stock COCO
evaluation, at the size of real attribute benchmarks.

A seeded generator writes a ground-truth file and a results file for each
case; nothing is downloaded:

* ``fashionpedia``: Fashionpedia-val-sized (default 1,158 images, ~7
  instances and 25 detections each, 46 categories, 294 attribute values in
  9 multi-label super-categories, polygon ground truth, RLE results at
  400-1200 px image sizes, results with Fashionpedia's ``attribute_ids``);
* ``paco``: PACO-sized (default 2,000 images, ~12 instances and 25
  detections each, 500 categories of which 425 ``obj:part`` parts, 55
  attribute values in PACO's 4 types, every (category, attribute) pair
  scored, LVIS' federated image lists, results with ``attribute_probs``).

Each case is evaluated (``segm``) by ``tools/analysis_tools/eval_results.py``
with every protocol that applies (``attr`` for both, ``fashionpedia`` /
``paco`` for its own case) and by the stock equivalent on the same files:
pycocotools' ``COCOeval`` (``segm``) after importing ``mmdet.evaluation``,
which is what mmdet's ``CocoMetric`` runs once its results are in COCO
form. Every evaluation is a process of its own, the two sides
interleaved; the wall time and the peak resident memory of the whole
process (imports, reading, evaluating, printing) are compared. The exit
status is 1 when a ratio exceeds its target (time 1.5x, peak memory 2x).

Example:
    python tools/analysis_tools/bench_metric_scale.py
    python tools/analysis_tools/bench_metric_scale.py --case paco \\
        --scale 0.25 --repeats 1
"""

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import pycocotools.mask as mask_util

TARGETS = dict(time=1.5, peak_mem=2.0)
EVAL_RESULTS = osp.join(osp.dirname(osp.abspath(__file__)), 'eval_results.py')

#: The stock side: COCOeval segm as mmdet's CocoMetric runs it.
STOCK = """
import sys
import mmdet.evaluation  # noqa: F401  (as CocoMetric's process)
from mmdet.datasets.api_wrappers import COCO, COCOeval
gt = COCO(sys.argv[1])
dt = gt.loadRes(sys.argv[2])
ev = COCOeval(gt, dt, 'segm')
ev.params.maxDets = [100, 300, 1000]
ev.evaluate()
ev.accumulate()
ev.summarize()
"""

#: Fashionpedia-val shape.
FP = dict(images=1158, categories=46, groups=9, values=294, instances=7.0)
#: PACO shape: 75 objects + 425 parts, 55 values in 4 types.
PACO_OBJECTS, PACO_PARTS = 75, 425
PACO_TYPES = dict(color=30, pattern_marking=11, material=10, transparency=4)
PACO = dict(images=2000, instances=12.0)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--case',
        choices=['fashionpedia', 'paco', 'both'],
        default='both',
    )
    parser.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='fraction of the images of each case (default 1: full size)',
    )
    parser.add_argument('--dets', type=int, default=25, help='per image')
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--keep', help='write the generated files here')
    return parser.parse_args(argv)


def _ellipse(rng, x, y, w, h) -> List[float]:
    """A polygon inscribed in the box, 8 to 24 vertices."""
    k = int(rng.integers(8, 24))
    angle = np.sort(rng.uniform(0, 2 * np.pi, k))
    px = x + w / 2 * (1 + np.cos(angle))
    py = y + h / 2 * (1 + np.sin(angle))
    return np.round(np.stack([px, py], 1).ravel(), 2).tolist()


def _box(rng, w: int, h: int) -> Tuple[float, float, float, float]:
    bw, bh = rng.uniform(20, w / 2), rng.uniform(20, h / 2)
    return rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh


def _gt_ann(rng, ann_id, img_id, cat, box, **fields) -> dict:
    x, y, bw, bh = box
    return dict(
        id=ann_id,
        image_id=img_id,
        category_id=cat,
        segmentation=[_ellipse(rng, x, y, bw, bh)],
        area=round(float(bw * bh * 0.78), 2),
        bbox=[round(float(v), 2) for v in box],
        iscrowd=0,
        **fields,
    )


def _detections(rng, img, gts, num, categories, attrs_of) -> List[dict]:
    """``num`` detections: two near every ground truth, then background;
    ``attrs_of(gt or None)`` gives the attribute fields."""
    w, h = img['width'], img['height']
    out = []
    for k in range(num):
        if k < 2 * len(gts):
            gt = gts[k // 2]
            x, y, bw, bh = (
                v + rng.normal(0, 0.05 * gt['bbox'][2 + i % 2])
                for i, v in enumerate(gt['bbox'])
            )
            cat = (
                gt['category_id']
                if rng.random() < 0.8
                else int(rng.choice(categories))
            )
        else:
            gt = None
            x, y, bw, bh = _box(rng, w, h)
            cat = int(rng.choice(categories))
        x, y = min(max(x, 0.0), w - 2.0), min(max(y, 0.0), h - 2.0)
        bw, bh = max(min(bw, w - x), 2.0), max(min(bh, h - y), 2.0)
        rle = mask_util.merge(
            mask_util.frPyObjects([_ellipse(rng, x, y, bw, bh)], h, w)
        )
        out.append(
            dict(
                image_id=img['id'],
                category_id=cat,
                segmentation=dict(
                    size=rle['size'], counts=rle['counts'].decode()
                ),
                score=round(float(rng.random()), 4),
                **attrs_of(gt),
            )
        )
    return out


def make_fashionpedia(scale: float, dets: int, seed: int) -> Tuple[dict, list]:
    """Fashionpedia-form ground truth and results (``attribute_ids``)."""
    rng = np.random.default_rng(seed)
    num_values, groups = FP['values'], FP['groups']
    attributes = [
        dict(
            id=i,
            name=f'attr{i}',
            supercategory=f'group{i * groups // num_values}',
            level=1,
        )
        for i in range(num_values)
    ]
    cat_ids = list(range(FP['categories']))
    images, anns, results = [], [], []
    num_images = max(1, round(FP['images'] * scale))
    counts = rng.poisson(FP['instances'] - 1, num_images) + 1

    def attrs_of(gt):
        ids = set(gt['attribute_ids']) if gt is not None else set()
        drop = [a for a in ids if rng.random() < 0.2]
        extra = rng.choice(num_values, int(rng.integers(0, 3))).tolist()
        return dict(attribute_ids=sorted(ids.difference(drop) | set(extra)))

    for n in range(num_images):
        img = dict(
            id=n + 1,
            width=int(rng.integers(400, 1200)),
            height=int(rng.integers(400, 1200)),
            file_name=f'{n + 1:08d}.jpg',
        )
        images.append(img)
        gts = []
        for _ in range(int(counts[n])):
            ids = rng.choice(num_values, int(rng.integers(0, 6)), False)
            gts.append(
                _gt_ann(
                    rng,
                    len(anns) + len(gts) + 1,
                    img['id'],
                    int(rng.integers(0, FP['categories'])),
                    _box(rng, img['width'], img['height']),
                    attribute_ids=sorted(ids.tolist()),
                )
            )
        anns += gts
        results += _detections(rng, img, gts, dets, cat_ids, attrs_of)
    gt = dict(
        info={},
        licenses=[],
        images=images,
        annotations=anns,
        categories=[
            dict(id=i, name=f'cat{i}', supercategory='garment')
            for i in cat_ids
        ],
        attributes=attributes,
    )
    return gt, results


def make_paco(scale: float, dets: int, seed: int) -> Tuple[dict, list]:
    """PACO-form ground truth and results (``attribute_probs``)."""
    rng = np.random.default_rng(seed)
    objects = [f'obj{i}' for i in range(PACO_OBJECTS)]
    names = objects + [
        f'obj{i % PACO_OBJECTS}:part{i}' for i in range(PACO_PARTS)
    ]
    categories = [
        dict(id=i + 1, name=name, frequency='frc'[i % 3])
        for i, name in enumerate(names)
    ]
    cat_ids = [c['id'] for c in categories]
    attributes, types = [], {}
    for t, n in PACO_TYPES.items():
        types[t] = []
        for k in range(n):
            name = f'other({t})' if k == n - 1 else f'{t}{k}'
            types[t].append(len(attributes))
            attributes.append(dict(id=len(attributes), name=name))
    num_values = len(attributes)
    pair = {
        (c, a): (c - 1) * num_values + a + 1
        for c in cat_ids
        for a in range(num_values)
    }
    joint = [
        {'obj': c, 'attr': a, 'obj-attr': j} for (c, a), j in pair.items()
    ]
    images, anns, results = [], [], []
    num_images = max(1, round(PACO['images'] * scale))
    counts = rng.poisson(PACO['instances'] - 1, num_images) + 1

    def attrs_of(gt):
        probs = rng.random(num_values) * 0.5
        if gt is not None:
            probs[gt['attribute_ids']] += 0.5
        return dict(attribute_probs=np.round(probs, 3).tolist())

    for n in range(num_images):
        img = dict(
            id=n + 1,
            width=int(rng.integers(400, 1200)),
            height=int(rng.integers(400, 1200)),
            file_name=f'{n + 1:012d}.jpg',
        )
        gts = []
        for _ in range(int(counts[n])):
            ids = [
                int(rng.choice(v))
                for v in types.values()
                if rng.random() < 0.5
            ]
            unknown = {f'unknown_{t}': int(rng.random() < 0.3) for t in types}
            gts.append(
                _gt_ann(
                    rng,
                    len(anns) + len(gts) + 1,
                    img['id'],
                    int(rng.choice(cat_ids)),
                    _box(rng, img['width'], img['height']),
                    attribute_ids=ids,
                    **unknown,
                )
            )
        present = sorted({g['category_id'] for g in gts})
        absent = rng.choice(cat_ids, 20, False).tolist()
        img.update(
            neg_category_ids=sorted(set(absent) - set(present)),
            not_exhaustive_category_ids=present[:1],
            neg_category_ids_attrs=sorted(
                {
                    pair[c, int(a)]
                    for c in present + absent[:5]
                    for a in rng.choice(num_values, 6, False)
                }
            ),
            not_exhaustive_category_ids_attrs=[],
        )
        images.append(img)
        anns += gts
        results += _detections(rng, img, gts, dets, cat_ids, attrs_of)
    gt = dict(
        images=images,
        annotations=anns,
        categories=categories,
        attributes=attributes,
        attr_type_to_attr_idxs=types,
        joint_obj_attribute_categories=joint,
    )
    return gt, results


def measure(cmd: List[str]) -> Dict[str, float]:
    """Wall time and peak resident memory (bytes) of ``cmd``."""
    start = time.perf_counter()
    with open(os.devnull, 'w') as null, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            cmd,
            stdout=null,
            stderr=err,
            env=dict(os.environ, OMP_NUM_THREADS='1'),
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(
                f'{" ".join(cmd[:4])} failed:\n'
                f'{err.read().decode()[-3000:]}'
            )
    return dict(time=wall, peak_mem=usage.ru_maxrss * 1024)


def bench_case(
    name: str, gt_file: str, res_file: str, protocols: List[str], repeats
) -> int:
    """Evaluate one case with each protocol and stock; print and judge."""
    stock_cmd = [sys.executable, '-c', STOCK, gt_file, res_file]
    status = 0
    for protocol in protocols:
        ours_cmd = [
            sys.executable,
            EVAL_RESULTS,
            gt_file,
            res_file,
            '--protocol',
            protocol,
        ]
        runs: Dict[str, List[Dict]] = dict(stock=[], ours=[])
        for r in range(repeats):
            order = ('stock', 'ours') if r % 2 == 0 else ('ours', 'stock')
            for side in order:
                cmd = stock_cmd if side == 'stock' else ours_cmd
                runs[side].append(measure(cmd))
        for key, target in TARGETS.items():
            stock = statistics.median(r[key] for r in runs['stock'])
            ours = statistics.median(r[key] for r in runs['ours'])
            ratio = ours / stock
            unit, div = ('s', 1) if key == 'time' else ('MB', 2**20)
            flag = '' if ratio <= target else '  ABOVE TARGET'
            print(
                f'{name:<13}{protocol:<13}{key:<9}'
                f'{stock / div:>10.2f}{unit:>3}{ours / div:>10.2f}{unit:>3}'
                f'{ratio:>8.2f}{target:>8.2f}{flag}',
                flush=True,
            )
            if ratio > target:
                status = 1
    return status


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cases = ['fashionpedia', 'paco'] if args.case == 'both' else [args.case]
    makers = dict(fashionpedia=make_fashionpedia, paco=make_paco)
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = args.keep or tmp
        os.makedirs(out_dir, exist_ok=True)
        header = (
            f'{"case":<13}{"protocol":<13}{"figure":<9}'
            f'{"stock":>13}{"ours":>13}{"ratio":>8}{"target":>8}'
        )
        for case in cases:
            gt, results = makers[case](args.scale, args.dets, args.seed)
            print(
                f'{case}: {len(gt["images"])} images, '
                f'{len(gt["annotations"])} instances, {len(results)} '
                f'detections, {len(gt["categories"])} categories, '
                f'{len(gt["attributes"])} attribute values; stock = '
                'pycocotools COCOeval segm (as CocoMetric), ours = '
                'eval_results.py; median of '
                f'{args.repeats}',
                flush=True,
            )
            gt_file = osp.join(out_dir, f'{case}_gt.json')
            res_file = osp.join(out_dir, f'{case}_results.segm.json')
            with open(gt_file, 'w') as f:
                json.dump(gt, f)
            with open(res_file, 'w') as f:
                json.dump(results, f)
            del gt, results
            print(header, flush=True)
            status |= bench_case(
                case, gt_file, res_file, ['attr', case], args.repeats
            )
    return status


if __name__ == '__main__':
    sys.exit(main())
