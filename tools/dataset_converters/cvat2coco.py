"""Convert a CVAT export to attribute COCO.

Examples:
    # a task exported as "CVAT for images 1.1" (zip or extracted xml)
    python tools/dataset_converters/cvat2coco.py task.zip data/mine/train.json
    # a project: one <subset>.json per subset (train.json, val.json, ...)
    python tools/dataset_converters/cvat2coco.py project.zip data/mine/ann
    # a task exported as "COCO 1.0": groups built from the values found
    python tools/dataset_converters/cvat2coco.py instances_default.json \
        data/mine/train.json

Image ``file_name``\\ s are relative to the export's ``images/`` folder
(``<subset>/<name>`` for a project); the images of a zip are extracted to
``--images-dir`` (default: ``images/`` beside the output). What was kept,
skipped and warned about is printed; nothing is overwritten without
``--force``.
"""

import argparse
import os
import os.path as osp
import sys
from collections import Counter
from typing import Dict, List, Optional

from mmmultilabel.datasets.cvat import CvatOptions, read_cvat
from mmmultilabel.datasets.formats import (
    CVAT_COCO,
    cvat_coco_groups,
    detect_format,
    read_annotation_file,
    to_canonical,
)
from mmmultilabel.utils import InputError
from mmmultilabel.utils.output_files import (
    print_error,
    print_warnings,
    refuse_overwrite,
    write_json,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a CVAT export (CVAT for images 1.1 .xml or '
        '.zip, or COCO 1.0 .json) to attribute COCO.'
    )
    parser.add_argument(
        'src', help='annotations.xml, the exported .zip, or a COCO 1.0 .json'
    )
    parser.add_argument(
        'out',
        help='output .json; for a project export, a folder that gets one '
        '<subset>.json per subset',
    )
    parser.add_argument(
        '--img-dir', help='image folder of an .xml (default: images/ beside)'
    )
    parser.add_argument(
        '--images-dir',
        help='where the images of a .zip are extracted (default: images/ '
        'beside the output)',
    )
    parser.add_argument(
        '--boxes',
        choices=('skip', 'keep'),
        default='skip',
        help='boxes: skip them (counted) or keep them as box-only '
        'instances (default: skip)',
    )
    parser.add_argument(
        '--checkbox-group',
        metavar='NAME',
        help='the checkboxes of a label form one multi-label group NAME '
        '(default: each checkbox is a false/true group)',
    )
    parser.add_argument(
        '--occluded',
        action='store_true',
        help='read the occluded flag of the shapes as a group "occluded"',
    )
    parser.add_argument(
        '--force', action='store_true', help='overwrite existing outputs'
    )
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar'
    )
    return parser.parse_args(argv)


def _outputs(out: str, subsets: List[str], project: bool) -> Dict[str, str]:
    if project or out.endswith(os.sep) or osp.isdir(out):
        return {s: osp.join(out, f'{s}.json') for s in subsets}
    return {subsets[0]: out} if subsets else {}


def _from_coco(args) -> tuple:
    data = read_annotation_file(args.src)
    if not isinstance(data, dict) or detect_format(data) != CVAT_COCO:
        raise InputError(
            f'{args.src}: not a COCO 1.0 file of CVAT/Datumaro (no '
            '"attributes" mapping on any annotation, or attribute_groups '
            'declared already)'
        )
    warnings: List[str] = []  # keys that are no group: named on reading
    groups = cvat_coco_groups(data)
    defects: List[str] = []
    coco = to_canonical(data, defects, warnings, groups)
    if defects:
        raise InputError('\n'.join(f'{args.src}: {d}' for d in defects))
    kept = Counter(annotations=len(coco['annotations']))
    return {'default': coco}, False, kept, Counter(), warnings


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if args.src.lower().endswith('.json'):
            subsets, project, kept, skipped, warnings = _from_coco(args)
            result = None
        else:
            result = read_cvat(
                args.src,
                CvatOptions(
                    boxes=args.boxes,
                    checkboxes='group' if args.checkbox_group else 'binary',
                    checkbox_group=args.checkbox_group or 'flags',
                    occluded=args.occluded,
                    img_dir=args.img_dir,
                ),
                progress=not args.no_progress,
            )
            subsets, project = result.subsets, result.project
            kept, skipped = result.kept, result.skipped
            warnings = result.warnings
    except InputError as err:
        return print_error(str(err))
    outputs = _outputs(args.out, sorted(subsets), project)
    refused = refuse_overwrite(outputs.values(), args.force)
    if refused:
        return refused
    print_warnings(warnings)
    if result is not None and result.export.zip is not None:
        first = next(iter(outputs.values()))
        dest = args.images_dir or osp.join(
            osp.dirname(osp.abspath(first)), 'images'
        )
        rels = [i['file_name'] for c in subsets.values() for i in c['images']]
        try:
            n = result.export.extract_images(rels, dest, args.force)
        except InputError as err:
            return print_error(str(err))
        print(f'extracted {n} image(s) to {dest}')
    for subset, path in outputs.items():
        coco = subsets[subset]
        write_json(coco, path)
        print(
            f'wrote {path}: {len(coco["images"])} images, '
            f'{len(coco["annotations"])} annotations, '
            f'{len(coco["categories"])} categories, '
            f'{len(coco["attribute_groups"])} attribute groups'
        )
    kept_text = ', '.join(f'{n} {k}' for k, n in sorted(kept.items()))
    print(f'kept: {kept_text or "nothing"}')
    if skipped:
        parts = ', '.join(f'{n} {k}' for k, n in sorted(skipped.items()))
        print(f'skipped: {parts}')
    for group in next(iter(subsets.values()), {}).get('attribute_groups', []):
        where = (
            f' (labels {group["categories"]})' if 'categories' in group else ''
        )
        print(f'group "{group["name"]}"{where}: {group["values"]}')
    print(f'{len(warnings)} warning(s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
