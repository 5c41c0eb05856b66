"""Evaluate a results file offline, as AttrCocoMetric does during testing.

Reads ground truth in any form that ``load_attr_coco`` reads and results
in COCO's results format with their attributes in this project's form
(``attributes`` / ``attribute_scores``, the ``<prefix>.segm.json`` /
``<prefix>.bbox.json`` that ``AttrCocoMetric`` writes with
``outfile_prefix``) or in the ground truth's own form (``attribute_ids``
for Fashionpedia, ``attribute_probs`` for PACO), and prints the tables and
the metrics under the metric's names.

``--protocol`` chooses the metrics:

* ``attr`` (default): COCO's summary, category AP, attribute accuracy /
  F1, attribute-aware AP and object-attribute AP (``docs/evaluation.md``);
* ``fashionpedia``: Fashionpedia's AP^{IoU+F1} and AP^{IoU}, exactly as
  its official ``FPEval`` (ground truth in Fashionpedia form);
* ``paco``: PACO's object-attribute APs, as its official evaluation
  (ground truth in PACO form): ``<iou_type>_obj_attr_AP``,
  ``_obj_attr_part_AP``, their ``_<attribute type>`` breakdown and LVIS'
  category ``AP``, ``AP50``, ... (``docs/evaluation.md``); an attribute AP
  that nothing measures is ``null`` in the JSON (NaN in PACO's code).

Examples:
    python tools/analysis_tools/eval_results.py GT.json work/res.segm.json
    python tools/analysis_tools/eval_results.py GT.json res.bbox.json \\
        --out metrics.json
    python tools/analysis_tools/eval_results.py \\
        instances_attributes_val2020.json results.json \\
        --protocol fashionpedia
    python tools/analysis_tools/eval_results.py \\
        paco_lvis_v1_val.json results.json --protocol paco --out m.json

Every image of the ground truth is evaluated, with or without results. A
file that cannot be evaluated stops the tool with one message that names
the file, the annotation or result and the fix (exit status 1).
"""

import argparse
import json
import sys
from typing import Dict, List, Optional

from mmmultilabel.datasets.formats import read_annotation_file
from mmmultilabel.datasets.loader import load_attr_coco
from mmmultilabel.evaluation import (
    PROTOCOLS,
    attr_coco_results,
    attr_coco_tables,
    evaluate_attr_coco,
    evaluate_protocol,
    json_metrics,
    load_attr_coco_api,
    to_own_form,
)
from mmmultilabel.utils import (
    AnnotationDefectError,
    InputError,
    ResultsError,
)

#: Errors that are the input's, reported as one message (exit 1).
INPUT_ERRORS = (InputError, FileNotFoundError)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Evaluate a results file: COCO AP with attribute '
        'metrics (--protocol attr), or the Fashionpedia / PACO benchmark '
        'metrics'
    )
    parser.add_argument('gt', help='ground-truth annotation file')
    parser.add_argument(
        'results',
        help='results file in COCO results format (attributes in this '
        "project's form or in the ground truth's form)",
    )
    parser.add_argument(
        '--protocol',
        choices=PROTOCOLS,
        default='attr',
        help="attr: this project's metrics (default); fashionpedia: "
        "FPEval's AP^{IoU+F1} and AP^{IoU}; paco: PACO's object-attribute "
        'APs',
    )
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
        help="attr protocol: COCO's maxDets (default: mmdet's 100 300 "
        '1000); the benchmark protocols use their own',
    )
    parser.add_argument(
        '--attr-iou-thr',
        type=float,
        default=0.5,
        help='attr protocol: IoU of the matches scored by attribute '
        'accuracy / F1',
    )
    parser.add_argument(
        '--attr-f1-thr',
        type=float,
        default=0.5,
        help='attr protocol: F1 a multi-label group needs in the '
        'attribute-aware AP',
    )
    parser.add_argument(
        '--classwise',
        action='store_true',
        help='attr protocol: also report <category>_precision, as the '
        'metric does',
    )
    parser.add_argument(
        '--ndigits',
        type=int,
        default=3,
        help='round the metrics to this many decimals (default 3, as the '
        'metric)',
    )
    parser.add_argument('--out', help='write the metrics to this JSON file')
    args = parser.parse_args(argv)
    coco_thrs = [round(0.5 + 0.05 * i, 2) for i in range(10)]
    if round(args.attr_iou_thr, 2) not in coco_thrs:
        parser.error(
            f'--attr-iou-thr {args.attr_iou_thr} must be one of the IoU '
            f'thresholds {coco_thrs}'
        )
    return args


def _stage(msg: str) -> None:
    print(f'[eval_results] {msg}', file=sys.stderr, flush=True)


def _attr_protocol(args, gt: dict, results: list, iou_type: str):
    """Metrics and tables of the default ``attr`` protocol."""
    try:
        data = load_attr_coco(gt)
    except AnnotationDefectError as err:  # name the file, not "<dict>"
        raise AnnotationDefectError(args.gt, err.defects) from None
    coco_gt = load_attr_coco_api(data, validate=False)
    coco_gt.source = args.gt
    results = to_own_form(results, gt, args.results, args.gt)
    _stage(f'evaluating {len(results)} results ({iou_type}, attr)')
    ev = evaluate_attr_coco(
        coco_gt,
        results,
        iou_type,
        max_dets=args.max_dets,
        attr_iou_thr=args.attr_iou_thr,
        attr_f1_thr=args.attr_f1_thr,
        source=args.results,
    )
    metrics = attr_coco_results(ev, classwise=args.classwise)
    return metrics, attr_coco_tables(ev)


def evaluate(args: argparse.Namespace) -> Dict[str, float]:
    """Evaluate, print and return the metrics (names as the metric's).

    Values are rounded to ``--ndigits``; a value that is not measured is -1
    (COCO/LVIS) or, for PACO's attribute APs, None (NaN in PACO's code,
    ``null`` in the JSON).
    """
    _stage(f'reading {args.gt}')
    gt = read_annotation_file(args.gt)
    _stage(f'reading {args.results}')
    results = read_annotation_file(args.results)
    if not isinstance(results, list):
        raise ResultsError(
            f'{args.results}: expected a list of results (COCO results '
            f'format), got a JSON {type(results).__name__}'
        )
    iou_type = args.iou_type
    if iou_type is None:
        has_masks = bool(results) and 'segmentation' in results[0]
        iou_type = 'segm' if has_masks else 'bbox'
    if args.protocol == 'attr':
        metrics, tables = _attr_protocol(args, gt, results, iou_type)
    else:
        _stage(
            f'evaluating {len(results)} results ({iou_type}, '
            f'{args.protocol})'
        )
        metrics, tables = evaluate_protocol(
            args.protocol,
            gt,
            results,
            iou_type,
            gt_source=args.gt,
            results_source=args.results,
        )
    for table in tables:
        print(table)
    metrics = json_metrics(
        {
            f'{iou_type}_{key}': value
            if isinstance(value, int)
            else round(value, args.ndigits)
            for key, value in metrics.items()
        }
    )
    print(json.dumps(metrics, indent=1))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=1)
    return metrics


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    """Run the tool; bad input exits with status 1 and one message."""
    args = parse_args(argv)
    try:
        return evaluate(args)
    except INPUT_ERRORS as err:
        print(f'eval_results.py: error: {err}', file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == '__main__':
    main(sys.argv[1:])
