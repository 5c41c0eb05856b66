"""Convert a Label Studio JSON export to attribute COCO.

Examples:
    python tools/dataset_converters/labelstudio2coco.py \
        export.json data/mine/annotations/train.json \
        --label-config label_config.xml --img-dir data/mine/images

The export is Label Studio's Export -> JSON (a list of tasks); JSON-MIN is
refused (its regions carry no ids). Polygon, brush and rectangle regions
become instances; per-region choices become attribute groups, declared by
the labelling config (Settings -> Labeling Interface -> Code) or inferred
from the values found. Everything skipped is counted; see
docs/dataset_format.md.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmmultilabel.datasets.label_studio import (
    LabelConfig,
    convert_label_studio,
)
from mmmultilabel.datasets.label_studio.reader import (
    RECTANGLE_MODES,
    SOURCES,
)
from mmmultilabel.utils import InputError
from mmmultilabel.utils.output_files import (
    print_error,
    print_warnings,
    refuse_defects,
    refuse_overwrite,
    write_json,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a Label Studio JSON export (Export -> JSON) '
        'to attribute COCO.'
    )
    parser.add_argument('src', help='the exported .json file (a task list)')
    parser.add_argument('out', help='output attribute COCO .json file')
    parser.add_argument(
        '--label-config',
        metavar='CONFIG.xml',
        help='the labelling config of the project (Settings -> Labeling '
        'Interface -> Code): declares the categories and the per-region '
        'choices; default: inferred from the results',
    )
    parser.add_argument(
        '--img-dir',
        help='local folder of the images; tasks name them by URL, '
        '/data/upload/.. or /data/local-files/?d=.., matched here by '
        'relative path, then file name. Image file names are written '
        'relative to it (default: the folder of SRC)',
    )
    parser.add_argument(
        '--source',
        choices=SOURCES,
        default='annotations',
        help='read the annotations (default) or the predictions '
        '(pre-annotations) of the tasks',
    )
    parser.add_argument(
        '--rectangles',
        choices=RECTANGLE_MODES,
        default='box',
        help='rectangle regions become box-only instances (default; mask '
        'data sets skip them on load), polygons of their corners, or are '
        'skipped',
    )
    parser.add_argument(
        '--data-key',
        help='task data key of the image (default: the <Image value="$key"> '
        'of the config, else "image")',
    )
    parser.add_argument(
        '--skip-invalid',
        action='store_true',
        help='leave tasks with defects out (they are listed) instead of '
        'failing',
    )
    parser.add_argument(
        '--force', action='store_true', help='overwrite an existing output'
    )
    parser.add_argument(
        '--no-progress', action='store_true', help='do not show a progress bar'
    )
    return parser.parse_args(argv)


def _counts(counter) -> str:
    return ', '.join(f'{n} {k}' for k, n in sorted(counter.items()))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not osp.isfile(args.src):
        return print_error(f'{args.src} is not a file')
    refused = refuse_overwrite([args.out], args.force)
    if refused:
        return refused
    try:
        config = (
            LabelConfig.from_file(args.label_config)
            if args.label_config
            else None
        )
        result = convert_label_studio(
            args.src,
            config,
            img_dir=args.img_dir,
            source=args.source,
            rectangles=args.rectangles,
            data_key=args.data_key,
            skip_invalid=args.skip_invalid,
            progress=not args.no_progress,
        )
    except InputError as err:
        return print_error(str(err))
    print_warnings(result.warnings)
    status = refuse_defects(
        result.defects, len(result.skipped_tasks), 'task', args.skip_invalid
    )
    if status is not None:
        return status
    write_json(result.coco, args.out)
    coco = result.coco
    print(
        f'wrote {args.out}: {len(coco["images"])} images, '
        f'{len(coco["annotations"])} annotations '
        f'({_counts(result.kept) or "none"}), '
        f'{len(coco["categories"])} categories, '
        f'{len(coco["attribute_groups"])} attribute groups'
    )
    if result.skipped_tasks:
        print(f'skipped {len(result.skipped_tasks)} task(s) with defects')
    if result.skipped:
        print(f'skipped: {_counts(result.skipped)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
