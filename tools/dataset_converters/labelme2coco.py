"""Convert a folder of labelme annotations to attribute COCO.

Examples:
    python tools/dataset_converters/labelme2coco.py data/mine/train \
        data/mine/annotations/train.json --spec data/mine/spec.json
    python tools/dataset_converters/labelme2coco.py SRC OUT.json \
        --classes car bus --group color=red,green,blue \
        --group damage=dent,scratch --multi-label damage

Label strings ``car|color=red|damage=dent,scratch`` and shape flags
``{"color=red": true}`` both give attributes; see docs/dataset_format.md.
Regions labelled ``__ignore__`` (or a label of ``--ignore-labels``) become
``iscrowd: 1`` regions; ``_background_`` shapes and shapes that are not
regions (line, linestrip, point, points) are skipped and counted per file.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmmultilabel.datasets.labelme import (
    LabelmeError,
    LabelmeSpec,
    convert_labelme_dir,
)
from mmmultilabel.utils.output_files import (
    print_error,
    print_warnings,
    refuse_defects,
    refuse_overwrite,
    write_json,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert labelme JSON files (one per image) to '
        'attribute COCO.'
    )
    parser.add_argument(
        'src_dir',
        help='folder searched recursively for '
        'labelme .json files; image file names are '
        'written relative to it',
    )
    parser.add_argument('out', help='output attribute COCO .json file')
    parser.add_argument(
        '--spec',
        help='JSON/YAML file declaring "categories" and "attribute_groups"',
    )
    parser.add_argument(
        '--classes',
        nargs='+',
        metavar='NAME',
        help='category names in order (ids 1..K); '
        'default: the spec, else every label found, sorted',
    )
    parser.add_argument(
        '--group',
        action='append',
        default=[],
        metavar='NAME=V1,V2,...',
        help='declare an attribute group and its values, '
        'in column order; repeat for each group',
    )
    parser.add_argument(
        '--multi-label',
        nargs='+',
        default=[],
        metavar='NAME',
        help='groups (of --group) that take several values',
    )
    parser.add_argument(
        '--ignore-labels',
        nargs='+',
        metavar='LABEL',
        help='more labels of regions to ignore besides __ignore__ (and '
        'those of the spec), written as iscrowd=1 regions of every category',
    )
    parser.add_argument(
        '--skip-invalid',
        action='store_true',
        help='leave files with defects out (they are '
        'listed) instead of failing',
    )
    parser.add_argument(
        '--force',
        action='store_true',
        help='overwrite an existing output file',
    )
    parser.add_argument(
        '--no-progress', action='store_true', help='do not show a progress bar'
    )
    return parser.parse_args(argv)


def build_spec(args: argparse.Namespace) -> LabelmeSpec:
    """Spec from --spec, overridden by --classes/--group/--multi-label."""
    spec = LabelmeSpec.from_file(args.spec) if args.spec else LabelmeSpec()
    if args.classes:
        spec.categories = LabelmeSpec.from_dict(
            dict(categories=args.classes)
        ).categories
    if args.group:
        groups = []
        for text in args.group:
            name, sep, values = text.partition('=')
            if not sep or not name.strip() or not values.strip():
                raise LabelmeError(
                    f'--group {text!r}: expected NAME=VALUE1,VALUE2,...'
                )
            groups.append(
                dict(
                    name=name.strip(),
                    values=[v.strip() for v in values.split(',') if v.strip()],
                    multi_label=name.strip() in args.multi_label,
                )
            )
        spec.groups = LabelmeSpec.from_dict(
            dict(attribute_groups=groups)
        ).groups
    spec.add_ignore_labels(args.ignore_labels or [])
    spec.check()
    unknown = set(args.multi_label) - set(spec.groups.names)
    if unknown:
        raise LabelmeError(
            f'--multi-label names undeclared groups '
            f'{sorted(unknown)}; declare them with --group'
        )
    return spec


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.src_dir):
        return print_error(f'{args.src_dir} is not a directory')
    refused = refuse_overwrite([args.out], args.force)
    if refused:
        return refused
    try:
        spec = build_spec(args)
    except LabelmeError as err:
        return print_error(str(err))
    result = convert_labelme_dir(
        args.src_dir,
        spec,
        skip_invalid=args.skip_invalid,
        progress=not args.no_progress,
        exclude=[args.out],
    )
    print_warnings(result.warnings)
    status = refuse_defects(
        result.defects, len(result.skipped), 'file', args.skip_invalid
    )
    if status is not None:
        return status
    write_json(result.coco, args.out)
    coco = result.coco
    skipped = (
        f', skipped {len(result.skipped)} file(s) with defects'
        if result.skipped
        else ''
    )
    if result.skipped_shapes:
        skipped += (
            f', skipped {sum(result.skipped_shapes.values())} shape(s) '
            f'that are not regions to learn in {len(result.warnings)} '
            'file(s)'
        )
    crowd = sum(a['iscrowd'] for a in coco['annotations'])
    if crowd:
        skipped += f' ({crowd} of the annotations are regions to ignore)'

    print(
        f'wrote {args.out}: {len(coco["images"])} images, '
        f'{len(coco["annotations"])} annotations, '
        f'{len(coco["categories"])} categories, '
        f'{len(coco["attribute_groups"])} attribute groups{skipped}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
