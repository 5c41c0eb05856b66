"""Predict instances with attributes on images: one JSON and one PNG each.

Examples:
    python tools/infer.py CONFIG CHECKPOINT demo.jpg --out-dir outputs
    python tools/infer.py CONFIG model.onnx images/ --out-dir outputs
    python tools/infer.py CONFIG CHECKPOINT images/ --out-dir outputs \\
        --score-thr 0.5 --attr-thr 0.6 pattern=0.8

For every readable image, ``OUT_DIR/preds/<name>.json`` holds its instances
(the schema of ``docs/inference.md``) and ``OUT_DIR/vis/<file name>`` the
drawn prediction (mmdet's layout). ``--export cvat --export-dir DIR`` also
writes the predictions for review in an annotation tool (:data:`EXPORTERS`):
``DIR/annotations.xml`` in CVAT for images 1.1. An image that cannot be
read is skipped with a message; all of them are listed at the end and the
exit status is then 1.
"""

import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Union

import mmmultilabel  # noqa: F401  (registers modules)
from mmmultilabel.apis import AttrInferencer
from mmmultilabel.apis.inferencer import BACKENDS
from mmmultilabel.datasets.cvat import write_cvat_xml
from mmmultilabel.datasets.label_studio import write_label_studio


def export_cvat(records: List[dict], export_dir: str, meta: dict) -> tuple:
    """CVAT for images 1.1 task annotations (masks in CVAT's RLE)."""
    path = osp.join(export_dir, 'annotations.xml')
    write_cvat_xml(records, path, meta['classes'], meta['attribute_groups'])
    return (path,)


#: ``--export`` formats: name -> (the files it writes, a function
#: (records, export_dir, meta) that writes them and returns their paths);
#: ``meta`` has ``classes`` and ``attribute_groups``.
EXPORTERS = {
    'cvat': (('annotations.xml',), export_cvat),
    'label-studio': (('tasks.json', 'label_config.xml'), write_label_studio),
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict instances, categories and attributes; write '
        'one JSON and one drawn PNG per image'
    )
    parser.add_argument('config', help='config file of the model')
    parser.add_argument(
        'checkpoint',
        help='checkpoint file (.pth), or an ONNX graph written by '
        'tools/deployment/export_onnx.py (.onnx)',
    )
    parser.add_argument(
        'input', help='an image file or a folder of images (not recursive)'
    )
    parser.add_argument(
        '--out-dir',
        required=True,
        help='output folder: OUT_DIR/preds/<image>.json and '
        "OUT_DIR/vis/<image file name> (mmdet's layout)",
    )
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.3,
        help='drop instances whose score is below this (default: 0.3)',
    )
    parser.add_argument(
        '--attr-thr',
        nargs='+',
        default=None,
        metavar='THR|GROUP=THR',
        help='attribute thresholds: one number for every group and/or '
        'GROUP=THR for one group, e.g. "0.5 pattern=0.8". A single-label '
        'group whose predicted value has a lower probability is unknown; a '
        'multi-label group is unknown when a value has a probability '
        "between 1-THR and THR (default: keep the model's decisions)",
    )
    parser.add_argument(
        '--device', default=None, help='e.g. cpu or cuda:0 (default: auto)'
    )
    parser.add_argument(
        '--batch-size', type=int, default=1, help='images per forward pass'
    )
    parser.add_argument(
        '--backend',
        choices=BACKENDS,
        default=None,
        help='pytorch (a checkpoint) or onnxruntime (an ONNX graph); '
        'default: from the suffix of CHECKPOINT',
    )
    parser.add_argument(
        '--no-vis', action='store_true', help='write the JSON files only'
    )
    parser.add_argument(
        '--export',
        choices=sorted(EXPORTERS),
        help='also write the predictions for review in an annotation tool: '
        'cvat writes annotations.xml (CVAT for images 1.1), label-studio '
        'writes tasks.json (pre-annotations) and label_config.xml '
        '(docs/getting_started.md)',
    )
    parser.add_argument(
        '--export-dir',
        help='folder of --export (default: OUT_DIR/<format>); an existing '
        'file there is not overwritten',
    )
    return parser.parse_args(argv)


def parse_attr_thr(
    items: Optional[List[str]], groups: List[str]
) -> Union[float, Dict[str, float], None]:
    """Turn ``['0.5', 'pattern=0.8']`` into the ``attr_thr`` argument.

    Raises:
        ValueError: for a malformed item, naming it.
    """
    if not items:
        return None
    default, per_group = None, {}
    for item in items:
        name, sep, value = item.rpartition('=')
        try:
            thr = float(value)
        except ValueError:
            raise ValueError(
                f'--attr-thr: "{item}" is neither a number nor GROUP=NUMBER'
            ) from None
        if sep:
            per_group[name] = thr
        else:
            default = thr
    if not per_group:
        return default
    if default is not None:
        per_group = {**{g: default for g in groups}, **per_group}
    return per_group


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    for path, what in (
        (args.config, 'config'),
        (args.checkpoint, 'checkpoint'),
    ):
        if not osp.isfile(path):
            print(f'error: {what} file not found: {path}', file=sys.stderr)
            return 2
    if not osp.exists(args.input):
        print(f'error: input not found: {args.input}', file=sys.stderr)
        return 2

    export_dir = args.export_dir or osp.join(args.out_dir, args.export or '')
    for name in EXPORTERS[args.export][0] if args.export else ():
        if osp.exists(osp.join(export_dir, name)):
            print(
                f'error: {export_dir}/{name} exists; remove it or give '
                'another --export-dir',
                file=sys.stderr,
            )
            return 2
    try:
        inferencer = AttrInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            show_progress=osp.isdir(args.input),
            backend=args.backend,
        )
        attr_thr = parse_attr_thr(args.attr_thr, inferencer.attr_spec.names)
        results = inferencer(
            args.input,
            batch_size=args.batch_size,
            score_thr=args.score_thr,
            attr_thr=attr_thr,
            out_dir=args.out_dir,
            no_save_vis=args.no_vis,
            no_save_pred=False,
            skip_unreadable=True,
        )
    except (ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2

    done = len(results['predictions'])
    print(f'{done} image(s) written to {args.out_dir}')
    if args.export:
        meta = inferencer.model.dataset_meta
        meta = dict(
            classes=list(meta['classes']),
            attribute_groups=inferencer.attr_spec.to_list(),
        )
        try:
            written = EXPORTERS[args.export][1](
                results['predictions'], export_dir, meta
            )
        except ValueError as e:  # InputError is a ValueError
            print(f'error: --export {args.export}: {e}', file=sys.stderr)
            return 2
        print(f'{args.export} export written: {", ".join(written)}')
    failed = results['failed']
    if failed:
        print(
            f'{len(failed)} image(s) could not be read and were skipped:',
            file=sys.stderr,
        )
        for item in failed:
            print(f'  {item["error"]}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
