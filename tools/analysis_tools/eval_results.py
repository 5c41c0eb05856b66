"""Evaluate a results file offline, as AttrCocoMetric does during testing.

Reads ground truth in any form that ``load_attr_coco`` reads and results
in COCO format with ``attributes`` / ``attribute_scores`` (the
``<prefix>.segm.json`` / ``<prefix>.bbox.json`` that ``AttrCocoMetric``
writes with ``outfile_prefix``), and prints COCO's summary, the metrics
under the metric's names and the per-category, per-group and
per-(category, value) tables.

Examples:
    python tools/analysis_tools/eval_results.py GT.json work/res.segm.json
    python tools/analysis_tools/eval_results.py GT.json res.bbox.json \\
        --out metrics.json

Every image of the ground truth is evaluated, with or without results.
"""

import argparse
import json
import sys
from typing import Dict, List, Optional

from mmengine.fileio import load

from mmmultilabel.evaluation import (
    attr_coco_results,
    attr_coco_tables,
    evaluate_attr_coco,
    load_attr_coco_api,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='COCO AP, attribute accuracy and attribute-aware AP of '
        'a results file'
    )
    parser.add_argument('gt', help='ground-truth annotation file')
    parser.add_argument('results', help='results file in COCO format')
    parser.add_argument(
        '--iou-type',
        choices=['segm', 'bbox'],
        help='default: segm if the results have "segmentation", else bbox',
    )
    parser.add_argument(
        '--max-dets',
        type=int,
        nargs='+',
        default=[100, 300, 1000],
        help="COCO's maxDets (default: mmdet's 100 300 1000)",
    )
    parser.add_argument(
        '--attr-iou-thr',
        type=float,
        default=0.5,
        help='IoU of the matches scored by attribute accuracy / F1',
    )
    parser.add_argument(
        '--attr-f1-thr',
        type=float,
        default=0.5,
        help='F1 a multi-label group needs in the attribute-aware AP',
    )
    parser.add_argument(
        '--classwise',
        action='store_true',
        help='also report <category>_precision, as the metric does',
    )
    parser.add_argument('--out', help='write the metrics to this JSON file')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    """Evaluate, print and return the metrics (names as the metric's)."""
    args = parse_args(argv)
    coco_gt = load_attr_coco_api(args.gt)
    results = load(args.results, file_format='json')
    iou_type = args.iou_type
    if iou_type is None:
        has_masks = bool(results) and 'segmentation' in results[0]
        iou_type = 'segm' if has_masks else 'bbox'
    ev = evaluate_attr_coco(
        coco_gt,
        results,
        iou_type,
        max_dets=args.max_dets,
        attr_iou_thr=args.attr_iou_thr,
        attr_f1_thr=args.attr_f1_thr,
    )
    for table in attr_coco_tables(ev):
        print(table)
    metrics = attr_coco_results(
        ev, classwise=args.classwise, prefix=f'{iou_type}_', ndigits=3
    )
    print(json.dumps(metrics, indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1)
    return metrics


if __name__ == '__main__':
    main(sys.argv[1:])
