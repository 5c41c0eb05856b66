"""Ground truth and results as official evaluators read them.

The benchmark protocols (``fashionpedia``, ``paco``) work from the ground
truth as published, not from the attribute COCO form: published files may
lack fields that pycocotools' ``COCOeval`` reads, which are filled here as
pycocotools would compute them:

* ``iscrowd`` missing: 0;
* ``bbox`` missing: the box of the mask (``maskUtils.toBbox`` of the
  annotation's RLE), as ``loadRes`` does for results;
* ``area`` missing: the area of the mask (``maskUtils.area``), else of the
  box.

Results are read as ``COCO.loadRes`` (and ``Fashionpedia.loadRes``) reads
them, with the ids checked first so that a bad result is named.
"""

import copy
import numbers
from typing import List, Mapping, Sequence

import pycocotools.mask as mask_util
from mmdet.datasets.api_wrappers import COCO

from mmmultilabel.datasets.formats import AnnotationDefectError


class ResultsError(ValueError):
    """A results file that cannot be evaluated; the message names the
    file, the result (1-based ``#n``), its image id and the fix."""


def ann_where(ann: Mapping) -> str:
    """``annotation id=N (image id=M)`` for messages."""
    return (
        f'annotation id={ann.get("id")!r} '
        f'(image id={ann.get("image_id")!r})'
    )


def _index(data: dict, source: str) -> COCO:
    coco = COCO()
    coco.dataset = data
    coco.createIndex()
    coco.source = source
    return coco


def official_gt_coco(gt: Mapping, source: str = '<dict>') -> COCO:
    """COCO api over a published ground-truth dict, missing fields filled.

    The input is not modified (annotations are copied).

    Args:
        gt (Mapping): Parsed ground-truth file.
        source (str): File name for messages.

    Returns:
        COCO: Indexed ground truth; ``source`` is set.

    Raises:
        AnnotationDefectError: for a missing top-level list, or an
            annotation whose image is unknown or that has neither
            ``segmentation`` nor ``bbox``.
    """
    if not isinstance(gt, Mapping):
        raise AnnotationDefectError(
            source,
            [f'top level: expected a JSON object, got {type(gt).__name__}'],
        )
    defects = [
        f'top level: field "{key}": expected a list, got '
        f'{type(gt.get(key)).__name__}'
        for key in ('images', 'annotations', 'categories')
        if not isinstance(gt.get(key), list)
    ]
    if defects:
        raise AnnotationDefectError(source, defects)
    data = dict(gt)
    images = {img.get('id'): img for img in gt['images']}
    anns: List[dict] = []
    for ann in gt['annotations']:
        ann = dict(ann)
        where = ann_where(ann)
        img = images.get(ann.get('image_id'))
        if img is None:
            defects.append(
                f'{where}: field "image_id": not an image of the file'
            )
            continue
        ann.setdefault('iscrowd', 0)
        seg = ann.get('segmentation')
        if ('bbox' not in ann or 'area' not in ann) and seg:
            rle = _ann_rle(seg, img['height'], img['width'])
            ann.setdefault('bbox', mask_util.toBbox(rle).tolist())
            ann.setdefault('area', float(mask_util.area(rle)))
        elif 'bbox' not in ann:
            defects.append(
                f'{where}: has neither "bbox" nor "segmentation"; give one'
            )
            continue
        ann.setdefault('area', float(ann['bbox'][2] * ann['bbox'][3]))
        anns.append(ann)
    if defects:
        raise AnnotationDefectError(source, defects)
    data['annotations'] = anns
    return _index(data, source)


def _ann_rle(seg, height: int, width: int) -> dict:
    """RLE of a polygon list, RLE or uncompressed RLE (``annToRLE``)."""
    if isinstance(seg, list):
        return mask_util.merge(mask_util.frPyObjects(seg, height, width))
    if isinstance(seg.get('counts'), list):
        return mask_util.frPyObjects(seg, height, width)
    return seg


def load_official_results(
    coco_gt: COCO,
    results: Sequence[dict],
    iou_type: str,
    source: str = '<results>',
) -> COCO:
    """Results as ``COCO.loadRes`` reads them, each result checked first.

    Rules of ``loadRes`` kept: when the first result has a non-empty
    ``bbox``, every result's ``area`` is its box area (and a result without
    ``segmentation`` gets its box as polygon); otherwise ``area`` is the
    mask area and a missing ``bbox`` is the mask's box. Result ids are the
    1-based positions. An empty list gives an empty result set. The given
    dicts are not modified.

    Args:
        coco_gt (COCO): Ground truth.
        results (Sequence[dict]): Parsed results.
        iou_type (str): ``'segm'`` or ``'bbox'``.
        source (str): File name for messages.

    Returns:
        COCO: The result api.

    Raises:
        ResultsError: naming the first result that cannot be read.
    """
    if not isinstance(results, list):
        raise ResultsError(
            f'{source}: expected a list of results (COCO results format), '
            f'got {type(results).__name__}'
        )
    gt_source = getattr(coco_gt, 'source', '<ground truth>')
    boxes = bool(results) and bool(
        isinstance(results[0], Mapping) and results[0].get('bbox')
    )
    for n, res in enumerate(results):
        check_result(res, n, coco_gt, source, gt_source)
        needed = 'bbox' if boxes else 'segmentation'
        seg = res.get('segmentation')
        if not boxes and seg is not None and not isinstance(seg, Mapping):
            raise ResultsError(
                f'{source}: result #{n + 1} (image id {res["image_id"]}): '
                'field "segmentation": results give masks as RLE '
                '({"size": [h, w], "counts": ...}), got '
                f'{str(seg)[:80]}'
            )
        if needed not in res:
            first = 'has' if boxes else 'has no'
            raise ResultsError(
                f'{source}: result #{n + 1} (image id {res["image_id"]}) has '
                f'no "{needed}" while the first result {first} "bbox"; '
                'give every result the same fields'
            )
    if not results:
        return _index(
            dict(
                images=list(coco_gt.dataset['images']),
                categories=copy.deepcopy(coco_gt.dataset['categories']),
                annotations=[],
            ),
            source,
        )
    coco_dt = coco_gt.loadRes([dict(r) for r in results])
    coco_dt.source = source
    return coco_dt


def check_result(
    res, n: int, coco_gt: COCO, source: str, gt_source: str
) -> None:
    """Raise :class:`ResultsError` if result ``n`` (0-based) is unusable:
    not an object, unknown image or category id, an RLE mask whose size is
    not the image's, no numeric score."""
    if not isinstance(res, Mapping):
        raise ResultsError(
            f'{source}: result #{n + 1} is not an object: {str(res)[:200]}'
        )
    if res.get('image_id') not in coco_gt.imgs:
        raise ResultsError(
            f'{source}: result #{n + 1} has image id '
            f'{res.get("image_id")!r}, which is not an image of {gt_source}; '
            'evaluate against the ground truth the results were made for'
        )
    if res.get('category_id') not in coco_gt.cats:
        raise ResultsError(
            f'{source}: result #{n + 1} (image id {res["image_id"]}) has '
            f'category id {res.get("category_id")!r}, which is not a '
            f'category of {gt_source} (ids {sorted(coco_gt.cats)[:50]})'
        )
    seg, img = res.get('segmentation'), coco_gt.imgs[res['image_id']]
    size = [img.get('height'), img.get('width')]
    if isinstance(seg, Mapping) and list(seg.get('size') or []) != size:
        raise ResultsError(
            f'{source}: result #{n + 1} (image id {res["image_id"]}): field '
            f'"segmentation": mask size {seg.get("size")} differs from the '
            f'image size [height, width] = {size} of {gt_source}'
        )
    score = res.get('score')
    if not isinstance(score, numbers.Real) or isinstance(score, bool):
        raise ResultsError(
            f'{source}: result #{n + 1} (image id {res["image_id"]}) has no '
            f'numeric "score" (got {score!r})'
        )
