"""Convert COCO instance annotations to semantic label PNGs for mmseg.

Every image of each annotation file gets a single-channel PNG with the
class index of each pixel: 0 for background, ``i`` for the ``i``-th entry
of ``categories`` (for the shapes data set: circle=1, square=2,
triangle=3). Instances are painted in annotation order, later ones on top;
crowd annotations are painted with ``--ignore-index`` (default 255).
mmseg's ``BaseSegDataset`` reads the result with
``img_suffix='.png', seg_map_suffix='.png'`` (see
``configs/inverseform/fpn_r18-w32_1xb8-1k_shapes-semseg.py``).

Example:
    python tools/inverseform/shapes2semseg.py data/shapes
    # reads data/shapes/annotations/{train,val}.json and writes
    # data/shapes/semseg/{train,val}/<image file stem>.png
"""

import argparse
import os
import os.path as osp
import sys
from typing import List, Optional, Sequence

import cv2
import numpy as np


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='COCO instance annotations to semantic label PNGs'
    )
    parser.add_argument(
        'data_root', help='data set root with annotations/<split>.json'
    )
    parser.add_argument(
        '--splits',
        nargs='+',
        default=['train', 'val'],
        help='annotation files to convert (default: train val)',
    )
    parser.add_argument(
        '--out-dir',
        help='output folder (default: DATA_ROOT/semseg); one sub-folder per '
        'split',
    )
    parser.add_argument('--ignore-index', type=int, default=255)
    return parser.parse_args(argv)


def coco_to_label_maps(
    ann_file: str, out_dir: str, ignore_index: int = 255
) -> Sequence[str]:
    """Write one label PNG per image of ``ann_file`` into ``out_dir``.

    Args:
        ann_file (str): COCO instance annotation file.
        out_dir (str): Output folder, created if needed.
        ignore_index (int): Value of crowd regions.

    Returns:
        list[str]: Class names, index 0 being ``'background'``.
    """
    from pycocotools.coco import COCO

    coco = COCO(ann_file)
    categories = coco.dataset.get('categories', [])
    if not 0 < len(categories) < min(ignore_index, 256):
        raise ValueError(
            f'{ann_file} has {len(categories)} categories; label PNGs hold '
            f'1..{min(ignore_index, 256) - 1} besides background 0'
        )
    cat_to_label = {cat['id']: i + 1 for i, cat in enumerate(categories)}
    os.makedirs(out_dir, exist_ok=True)
    for img_id in sorted(coco.getImgIds()):
        info = coco.imgs[img_id]
        label = np.zeros((info['height'], info['width']), np.uint8)
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[img_id])):
            if ann['category_id'] not in cat_to_label:
                raise ValueError(
                    f'{ann_file}: annotation {ann["id"]} has category_id '
                    f'{ann["category_id"]}, which is not in categories'
                )
            mask = coco.annToMask(ann).astype(bool)
            label[mask] = (
                ignore_index
                if ann.get('iscrowd', 0)
                else cat_to_label[ann['category_id']]
            )
        stem = osp.splitext(osp.basename(info['file_name']))[0]
        cv2.imwrite(osp.join(out_dir, stem + '.png'), label)
    return ['background'] + [cat['name'] for cat in categories]


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    out_root = args.out_dir or osp.join(args.data_root, 'semseg')
    for split in args.splits:
        ann_file = osp.join(args.data_root, 'annotations', f'{split}.json')
        if not osp.isfile(ann_file):
            sys.exit(f'error: annotation file not found: {ann_file}')
        try:
            classes = coco_to_label_maps(
                ann_file, osp.join(out_root, split), args.ignore_index
            )
        except ValueError as err:
            sys.exit(f'error: {err}')
        print(
            f'{split}: label PNGs in {osp.join(out_root, split)}, classes '
            f'{dict(enumerate(classes))}'
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
