"""Check an attribute COCO annotation file: errors and warnings.

Examples:
    python tools/misc/validate_dataset.py data/shapes/annotations/train.json
    python tools/misc/validate_dataset.py ANN.json --img-dir data/shapes/train

Every error (a defect that makes the file unusable) and every warning (a
field read by a rule rather than as written: a ``bbox`` taken from the
mask, annotations without a mask skipped, a value listed under a PACO type
flagged unknown, unknown fields, ...) is printed, then their counts.

Exit status: 0 when the file is usable (warnings only), 1 when it has
errors or cannot be read, 2 for wrong arguments.
"""

import argparse
import sys
from typing import List, Optional

from mmmultilabel.datasets.formats import detect_format, read_annotation_file
from mmmultilabel.datasets.validation import check_attr_coco
from mmmultilabel.utils import AnnotationSyntaxError


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Validate attribute COCO annotations (also the subcat, '
        'Fashionpedia and PACO forms). Errors exit 1, warnings alone exit 0.'
    )
    parser.add_argument('ann_file', help='annotation .json file')
    parser.add_argument(
        '--img-dir',
        help='image folder; check that every image file exists in it',
    )
    parser.add_argument(
        '--no-progress',
        action='store_true',
        help='no progress bar (it is shown on a terminal only)',
    )
    return parser.parse_args(argv)


def _count(n: int, what: str) -> str:
    return f'{n} {what}(s)'


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        data = read_annotation_file(args.ann_file)
    except AnnotationSyntaxError as err:
        print(err)
        print(f'{args.ann_file}: 1 defect(s)')
        return 1
    except (
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
        UnicodeDecodeError,
    ) as err:
        print(
            f'{args.ann_file}: cannot read the file ({err}); give the path '
            'of a JSON annotation file'
        )
        return 1
    warnings: List[str] = []
    canonical, defects = check_attr_coco(
        data,
        img_dir=args.img_dir,
        warnings=warnings,
        progress=not args.no_progress,
    )
    for warning in warnings:
        print(f'{args.ann_file}: warning: {warning}')
    for defect in defects:
        print(f'{args.ann_file}: {defect}')
    tail = f', {_count(len(warnings), "warning")}' if warnings else ''
    if defects:
        print(f'{args.ann_file}: {_count(len(defects), "defect")}{tail}')
        return 1
    print(
        f'{args.ann_file}: OK ({detect_format(data)} form, '
        f'{len(canonical["images"])} images, '
        f'{len(canonical["annotations"])} annotations, '
        f'{len(canonical["categories"])} categories, '
        f'{len(canonical["attribute_groups"])} attribute groups){tail}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
