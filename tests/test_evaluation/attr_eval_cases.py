"""Random attribute-COCO ground truth and results for evaluation tests."""

import contextlib
import copy
import io

import numpy as np
import pycocotools.mask as mask_util
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmmultilabel.utils import AttributeSpec

GROUPS = [
    dict(name='color', values=['red', 'green', 'blue']),
    dict(name='size', values=['small', 'large']),
    dict(
        name='pattern', values=['striped', 'dotted', 'plain'], multi_label=True
    ),
]
CLASSES = ('cube', 'ball', 'cone')


def rle_box(h: int, w: int, box) -> dict:
    """RLE (str counts) of a filled box ``[x, y, bw, bh]`` clipped to the
    image."""
    x, y, bw, bh = (int(v) for v in box)
    mask = np.zeros((h, w), dtype=np.uint8)
    mask[max(y, 0) : y + bh, max(x, 0) : x + bw] = 1
    rle = mask_util.encode(np.asfortranarray(mask))
    rle['counts'] = rle['counts'].decode()
    return rle


def random_attributes(rng, unknown: float) -> dict:
    """``attributes`` dict; each group missing with prob ``unknown``."""
    out = {}
    for g in GROUPS:
        if rng.random() < unknown:
            continue
        if g.get('multi_label'):
            out[g['name']] = [v for v in g['values'] if rng.random() < 0.4]
        else:
            out[g['name']] = str(rng.choice(g['values']))
    return out


def random_attribute_scores(rng) -> dict:
    return {
        g['name']: (
            rng.random(len(g['values']))
            if g.get('multi_label')
            else rng.dirichlet(np.ones(len(g['values'])))
        ).tolist()
        for g in GROUPS
    }


def make_case(
    seed: int,
    num_imgs: int = 14,
    unknown: float = 0.0,
    pred_unknown: float = 0.05,
    crowd: float = 0.05,
    empty_img: float = 0.15,
    attr_right: float = 0.6,
):
    """Ground-truth dict and results list (with bbox and segmentation).

    Image ids and annotation ids are sparse and shuffled so that any use of
    positions instead of ids shows. Some images have no ground truth, some
    no detection; scores are distinct.
    """
    rng = np.random.default_rng(seed)
    images, anns, results = [], [], []
    ann_ids = rng.permutation(np.arange(1, 40 * num_imgs))[: 8 * num_imgs]
    next_ann = iter(int(a) * 3 + 1 for a in ann_ids)
    img_ids = (rng.permutation(num_imgs) * 11 + 5).tolist()
    for n, img_id in enumerate(img_ids):
        h, w = int(rng.integers(40, 72)), int(rng.integers(40, 72))
        images.append(
            dict(id=img_id, width=w, height=h, file_name=f'{img_id}.png')
        )
        num_gts = 0 if rng.random() < empty_img else int(rng.integers(1, 7))
        no_dets = n % 5 == 1
        for _ in range(num_gts):
            bw, bh = int(rng.integers(8, w // 2)), int(rng.integers(8, h // 2))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            box = [float(x), float(y), float(bw), float(bh)]
            seg = rle_box(h, w, box)
            gt = dict(
                id=next(next_ann),
                image_id=img_id,
                category_id=int(rng.integers(1, len(CLASSES) + 1)),
                bbox=box,
                area=float(mask_util.area(seg)),
                iscrowd=int(rng.random() < crowd),
                segmentation=seg,
                attributes=random_attributes(rng, unknown),
            )
            anns.append(gt)
            if no_dets:
                continue
            for _ in range(int(rng.choice([0, 1, 1, 1, 2]))):
                dx, dy, dw, dh = rng.integers(-2, 3, 4)
                dbox = [
                    float(x + dx),
                    float(y + dy),
                    float(bw + dw),
                    float(bh + dh),
                ]
                attrs = (
                    dict(gt['attributes'])
                    if rng.random() < attr_right
                    else random_attributes(rng, pred_unknown)
                )
                if gt['attributes'] and rng.random() < pred_unknown:
                    attrs.pop(next(iter(attrs)), None)
                cat = (
                    gt['category_id']
                    if rng.random() < 0.9
                    else int(rng.integers(1, len(CLASSES) + 1))
                )
                results.append(
                    dict(
                        image_id=img_id,
                        category_id=cat,
                        bbox=dbox,
                        segmentation=rle_box(h, w, dbox),
                        attributes=attrs,
                        attribute_scores=random_attribute_scores(rng),
                    )
                )
        if no_dets:
            continue
        for _ in range(int(rng.integers(0, 4))):  # background detections
            bw, bh = int(rng.integers(6, w // 2)), int(rng.integers(6, h // 2))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            box = [float(x), float(y), float(bw), float(bh)]
            results.append(
                dict(
                    image_id=img_id,
                    category_id=int(rng.integers(1, len(CLASSES) + 1)),
                    bbox=box,
                    segmentation=rle_box(h, w, box),
                    attributes=random_attributes(rng, pred_unknown),
                    attribute_scores=random_attribute_scores(rng),
                )
            )
    scores = rng.permutation(len(results)) / max(len(results), 1) + 0.01
    for res, score in zip(results, scores):
        res['score'] = float(score)
    order = rng.permutation(len(results))
    results = [results[i] for i in order]
    gt = dict(
        images=images,
        annotations=[anns[i] for i in rng.permutation(len(anns))],
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)],
        attribute_groups=copy.deepcopy(GROUPS),
    )
    return gt, results


def coco_eval(
    gt: dict,
    results: list,
    iou_type: str,
    max_dets=None,
    iou_thrs=None,
    area_all=None,
) -> COCOeval:
    """Plain pycocotools evaluation (the oracle), quietly; ``area_all``
    replaces the area range "all"."""
    results = copy.deepcopy(results)
    if iou_type == 'segm':
        for res in results:
            res.pop('bbox', None)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        if results:
            coco_dt = coco_gt.loadRes(results)
        else:
            coco_dt = COCO()
            coco_dt.dataset = dict(
                images=gt['images'],
                categories=gt['categories'],
                annotations=[],
            )
            coco_dt.createIndex()
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        if max_dets is not None:
            ev.params.maxDets = list(max_dets)
        if iou_thrs is not None:
            ev.params.iouThrs = np.asarray(iou_thrs)
        if area_all is not None:
            ev.params.areaRng[0] = list(area_all)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


def label_row(attributes: dict) -> tuple:
    return tuple(AttributeSpec(GROUPS).encode(attributes))
