"""Check an attribute COCO annotation file and list every defect.

Examples:
    python tools/misc/validate_dataset.py data/shapes/annotations/train.json
    python tools/misc/validate_dataset.py ANN.json --img-dir data/shapes/train

Exit status: 0 when the file is clean, 1 when it has defects (all listed,
with their count) or cannot be read, 2 for wrong arguments.
"""

import argparse
import sys
from typing import List, Optional

from mmmultilabel.datasets.formats import (
    AnnotationSyntaxError,
    detect_format,
    read_annotation_file,
)
from mmmultilabel.datasets.validation import check_attr_coco


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Validate attribute COCO annotations (also the subcat, '
        'Fashionpedia and PACO forms).'
    )
    parser.add_argument('ann_file', help='annotation .json file')
    parser.add_argument(
        '--img-dir',
        help='image folder; check that every image file exists in it',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        data = read_annotation_file(args.ann_file)
    except AnnotationSyntaxError as err:
        print(err)
        print(f'{args.ann_file}: 1 defect')
        return 1
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError) as err:
        print(f'{args.ann_file}: cannot read the file: {err}')
        return 1
    canonical, defects = check_attr_coco(data, img_dir=args.img_dir)
    for defect in defects:
        print(f'{args.ann_file}: {defect}')
    if defects:
        print(f'{args.ann_file}: {len(defects)} defect(s)')
        return 1
    print(
        f'{args.ann_file}: OK ({detect_format(data)} form, '
        f'{len(canonical["images"])} images, '
        f'{len(canonical["annotations"])} annotations, '
        f'{len(canonical["categories"])} categories, '
        f'{len(canonical["attribute_groups"])} attribute groups)'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
