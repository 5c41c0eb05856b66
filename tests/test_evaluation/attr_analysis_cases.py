"""Hand-made ground truth and results of the analysis tests.

Every expected number in the tests was counted by hand from the boxes and
attributes below (written out next to each test).
"""

import json
import os.path as osp

import numpy as np
import pycocotools.mask as mask_util

GROUPS = [
    dict(name='color', values=['red', 'green', 'blue']),
    dict(name='size', values=['small', 'large']),
    dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
]
SIZE = 40
CUBE, BALL = 3, 7  # sparse category ids
IMG_A, IMG_B = 5, 9  # sparse image ids


def rle(box) -> dict:
    """RLE of a filled box [x, y, w, h] in a SIZE x SIZE image."""
    x, y, w, h = box
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[y : y + h, x : x + w] = 1
    out = mask_util.encode(np.asfortranarray(mask))
    out['counts'] = out['counts'].decode()
    return out


def gt_ann(ann_id, img_id, cat, box, attributes):
    return dict(
        id=ann_id,
        image_id=img_id,
        category_id=cat,
        bbox=[float(v) for v in box],
        area=float(box[2] * box[3]),
        iscrowd=0,
        segmentation=rle(box),
        attributes=attributes,
    )


def result(img_id, cat, box, score, attributes, attribute_scores):
    return dict(
        image_id=img_id,
        category_id=cat,
        bbox=[float(v) for v in box],
        score=score,
        segmentation=rle(box),
        attributes=attributes,
        attribute_scores=attribute_scores,
    )


def gt_dict(anns, images=(IMG_A, IMG_B)) -> dict:
    return dict(
        images=[
            dict(id=i, width=SIZE, height=SIZE, file_name=f'img{i}.png')
            for i in images
        ],
        categories=[dict(id=CUBE, name='cube'), dict(id=BALL, name='ball')],
        attribute_groups=GROUPS,
        annotations=anns,
    )


def errors_case():
    """Five located objects, one unmatched and one duplicate detection.

    Image A: g11 cube red/small/[striped] found by r1 with size large;
    g12 cube green/large/[] found by r2 as blue, [dotted]; g13 ball
    blue/(size unknown)/[striped, dotted] found by r3, all right.
    r4: a cube where there is none. Image B: g21 ball red/small/(pattern
    unknown) found by r5 without colour; g22 cube (colour unknown)/large/
    [dotted] found by r6 (IoU 2/3) as small and [striped, dotted]; r7, a
    later duplicate on g22, stays unmatched.
    """
    gts = [
        gt_ann(
            11,
            IMG_A,
            CUBE,
            [0, 0, 10, 10],
            dict(color='red', size='small', pattern=['striped']),
        ),
        gt_ann(
            12,
            IMG_A,
            CUBE,
            [20, 0, 10, 10],
            dict(color='green', size='large', pattern=[]),
        ),
        gt_ann(
            13,
            IMG_A,
            BALL,
            [0, 20, 10, 10],
            dict(color='blue', pattern=['striped', 'dotted']),
        ),
        gt_ann(
            21, IMG_B, BALL, [20, 20, 10, 10], dict(color='red', size='small')
        ),
        gt_ann(
            22,
            IMG_B,
            CUBE,
            [0, 0, 10, 10],
            dict(size='large', pattern=['dotted']),
        ),
    ]
    full = dict(color=[0.8, 0.1, 0.1], size=[0.3, 0.7], pattern=[0.9, 0.1])
    results = [
        result(
            IMG_A,
            CUBE,
            [0, 0, 10, 10],
            0.9,
            dict(color='red', size='large', pattern=['striped']),
            full,
        ),
        result(
            IMG_A,
            CUBE,
            [20, 0, 10, 10],
            0.8,
            dict(color='blue', size='large', pattern=['dotted']),
            dict(color=[0.1, 0.3, 0.6], size=[0.2, 0.8], pattern=[0.2, 0.9]),
        ),
        result(
            IMG_A,
            BALL,
            [0, 20, 10, 10],
            0.7,
            dict(color='blue', size='small', pattern=['striped', 'dotted']),
            full,
        ),
        result(
            IMG_A,
            CUBE,
            [20, 20, 10, 10],
            0.6,
            dict(color='red', size='small', pattern=[]),
            full,
        ),
        result(
            IMG_B,
            BALL,
            [20, 20, 10, 10],
            0.5,
            dict(size='small'),
            dict(size=[0.9, 0.1]),
        ),
        result(
            IMG_B,
            CUBE,
            [2, 0, 10, 10],
            0.4,
            dict(color='red', size='small', pattern=['striped', 'dotted']),
            dict(color=[0.7, 0.2, 0.1], size=[0.55, 0.45], pattern=[0.6, 0.8]),
        ),
        result(
            IMG_B,
            CUBE,
            [0, 0, 10, 10],
            0.3,
            dict(color='green', size='large', pattern=[]),
            full,
        ),
    ]
    return gt_dict(gts), results


def pr_case():
    """One image, three cubes (small, small, large) and four detections,
    every one scored 1.0, whose value probabilities rank them per value.
    """
    gts = [
        gt_ann(1, IMG_A, CUBE, [0, 0, 8, 8], dict(size='small')),
        gt_ann(2, IMG_A, CUBE, [10, 0, 8, 8], dict(size='small')),
        gt_ann(3, IMG_A, CUBE, [20, 0, 8, 8], dict(size='large')),
    ]

    def det(box, small):
        return result(
            IMG_A,
            CUBE,
            box,
            1.0,
            dict(size='small' if small >= 0.5 else 'large'),
            dict(size=[small, round(1 - small, 2)]),
        )

    results = [
        det([0, 0, 8, 8], 0.9),  # on the first small cube
        det([10, 0, 8, 8], 0.2),  # on the second small cube
        det([20, 0, 8, 8], 0.6),  # on the large cube
        det([0, 30, 8, 8], 0.7),  # on nothing
    ]
    return gt_dict(gts, images=(IMG_A,)), results


def write_case(tmp_path, case):
    """Write ground truth and results; return their paths."""
    gt, results = case
    gt_path = osp.join(tmp_path, 'gt.json')
    res_path = osp.join(tmp_path, 'results.segm.json')
    with open(gt_path, 'w') as f:
        json.dump(gt, f)
    with open(res_path, 'w') as f:
        json.dump(results, f)
    return gt_path, res_path
