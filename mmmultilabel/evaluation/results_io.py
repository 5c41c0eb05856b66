"""Ground truth and results as COCO api objects, one reader for each.

* :func:`load_attr_coco_api`: ground truth in any form the data set reads,
  as attribute COCO;
* :func:`official_gt_coco`: ground truth as a benchmark publishes it
  (``fashionpedia``, ``paco``), with the fields that pycocotools'
  ``COCOeval`` reads and published files may lack filled as pycocotools
  computes them: ``iscrowd`` 0; ``bbox`` the box of the mask
  (``maskUtils.toBbox`` of ``COCO.annToRLE``), as ``loadRes`` does for
  results; ``area`` the area of the mask, else of the box;
* :func:`load_results`: results, read as mmdet's ``CocoMetric`` or as
  ``COCO.loadRes`` (and ``Fashionpedia.loadRes``) reads them, with every
  result checked first so that a bad one is named.
"""

import contextlib
import copy
import io
import numbers
from typing import List, Mapping, Optional, Sequence, Union

import pycocotools.mask as mask_util
from mmdet.datasets.api_wrappers import COCO
from mmengine.fileio import load

from mmmultilabel.datasets.formats import ann_where
from mmmultilabel.datasets.loader import load_attr_coco
from mmmultilabel.utils import gc_paused
from mmmultilabel.utils.errors import AnnotationDefectError, ResultsError


def check_iou_type(iou_type: str, who: str) -> None:
    """Raise ``ValueError`` unless ``iou_type`` is ``'segm'`` or ``'bbox'``,
    the two that ``who`` evaluates."""
    if iou_type not in ('segm', 'bbox'):
        raise ValueError(f'{who} evaluates "segm" or "bbox", got {iou_type!r}')


def coco_from_dict(data: dict, source: str) -> COCO:
    """Index a COCO dict; ``source`` names it in error messages."""
    coco = COCO()
    coco.dataset = data
    coco.createIndex()
    coco.img_ann_map = coco.imgToAnns
    coco.cat_img_map = coco.catToImgs
    coco.source = source
    return coco


def load_attr_coco_api(
    ann_file: Union[str, Mapping],
    backend_args: Optional[dict] = None,
    validate: bool = True,
    attribute_groups: Optional[list] = None,
) -> COCO:
    """Ground truth with attributes as a COCO api object.

    Any form that :func:`~mmmultilabel.datasets.loader.load_attr_coco`
    reads (attribute COCO, subcat, Fashionpedia, PACO) is converted to
    attribute COCO: ``dataset['attribute_groups']`` and, per annotation,
    ``attributes`` with value names (and ``partial_attributes`` for PACO
    values listed under a type flagged unknown). The fields that published
    files leave out are filled as pycocotools and PACO read them (``bbox``
    from the mask, ``iscrowd`` 0, annotations without a mask skipped in a
    data set of masks; each rule logged as a warning), so that
    ``COCOeval`` finds them. Images keep their LVIS federated fields.

    Args:
        ann_file (str | Mapping): Annotation file (path or URI) or dict.
        backend_args (dict, optional): Arguments of the file backend.
        validate (bool): Check the data and raise on any defect, listing
            all of them. Defaults to True.
        attribute_groups (list[dict], optional): The groups of a file that
            declares none (CVAT's COCO 1.0), e.g. the data set's.

    Returns:
        COCO: mmdet's COCO api over the canonical dict; its ``source``
        attribute is the file name (``<dict>`` for a dict).
    """
    data = load_attr_coco(
        ann_file,
        backend_args=backend_args,
        validate=validate,
        attribute_groups=attribute_groups,
    )
    source = ann_file if isinstance(ann_file, str) else '<dict>'
    return coco_from_dict(data, source)


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
    images = {img.get('id') for img in gt['images']}
    anns: List[dict] = []
    for ann in gt['annotations']:
        if ann.get('image_id') not in images:
            defects.append(
                f'{ann_where(ann)}: field "image_id": not an image of the '
                'file'
            )
        elif 'bbox' not in ann and not ann.get('segmentation'):
            defects.append(
                f'{ann_where(ann)}: has neither "bbox" nor "segmentation"; '
                'give one'
            )
        else:
            anns.append(dict(ann, iscrowd=ann.get('iscrowd', 0)))
    if defects:
        raise AnnotationDefectError(source, defects)
    coco = coco_from_dict(dict(gt, annotations=anns), source)
    for ann in anns:
        if ('bbox' not in ann or 'area' not in ann) and ann.get(
            'segmentation'
        ):
            rle = coco.annToRLE(ann)
            ann.setdefault('bbox', mask_util.toBbox(rle).tolist())
            ann.setdefault('area', float(mask_util.area(rle)))
        ann.setdefault('area', float(ann['bbox'][2] * ann['bbox'][3]))
    return coco


def load_results(
    coco_gt: COCO,
    results: Union[str, Sequence[dict]],
    iou_type: str,
    source: Optional[str] = None,
    backend_args: Optional[dict] = None,
    official: bool = False,
) -> COCO:
    """Results in COCO format (with attribute fields) as a COCO api object.

    Unlike ``COCO.loadRes`` this accepts an empty result list (an image or
    a whole data set without prediction is valid), leaves the given dicts
    untouched and names the offending result when an image or category is
    not in the ground truth. Two reading rules:

    * this project's (``official=False``, as mmdet's ``CocoMetric``): every
      result needs the field of ``iou_type``; ``segm`` results lose their
      ``bbox`` so that areas come from the masks;
    * ``loadRes``'s (``official=True``, as the benchmarks' evaluators): when
      the first result has a non-empty ``bbox``, every result's ``area`` is
      its box area (and a result without ``segmentation`` gets its box as
      polygon); otherwise ``area`` is the mask area and a missing ``bbox``
      is the mask's box.

    Args:
        coco_gt (COCO): Ground truth.
        results (str | Sequence[dict]): Results file or list of results.
        iou_type (str): ``'segm'`` or ``'bbox'``.
        source (str, optional): Name of the results in messages. Defaults
            to the file name, or ``<results>`` for a list.
        backend_args (dict, optional): Arguments of the file backend.
        official (bool): Read as ``loadRes`` does. Defaults to False.

    Returns:
        COCO: Result api; annotation ``id`` is the 1-based result index.

    Raises:
        ResultsError: naming the first result that cannot be evaluated.
    """
    if source is None:
        source = results if isinstance(results, str) else '<results>'
    if isinstance(results, str):
        results = load(results, backend_args=backend_args)
    if not isinstance(results, list):
        raise ResultsError(
            f'{source}: expected a list of results in COCO '
            f'format, got {type(results).__name__}'
        )
    gt_source = getattr(coco_gt, 'source', '<ground truth>')
    if official:
        boxes = bool(results) and bool(
            isinstance(results[0], Mapping) and results[0].get('bbox')
        )
        field = 'bbox' if boxes else 'segmentation'
    else:
        field = 'segmentation' if iou_type == 'segm' else 'bbox'
    # one dict per result, kept: the cyclic collector would rescan them
    # over and over (gc_paused)
    with gc_paused():
        anns: List[dict] = []
        for n, res in enumerate(results):
            check_result(res, n, coco_gt, source, gt_source)
            _check_fields(res, n, field, iou_type, official, source)
            ann = dict(res)
            if iou_type == 'segm' and not official:
                ann.pop('bbox', None)
            anns.append(ann)
        if anns:
            with contextlib.redirect_stdout(io.StringIO()):  # progress
                coco_dt = coco_gt.loadRes(anns)
        else:
            coco_dt = coco_from_dict(
                dict(
                    images=list(coco_gt.dataset['images']),
                    categories=copy.deepcopy(coco_gt.dataset['categories']),
                    annotations=[],
                ),
                source,
            )
    coco_dt.source = source
    return coco_dt


def _check_fields(
    res: Mapping, n: int, field: str, iou_type: str, official: bool, source
) -> None:
    """Raise :class:`ResultsError` if result ``n`` lacks the field that the
    reading rule of :func:`load_results` needs, has a mask that is not
    compressed RLE or a box that is not four numbers (``loadRes`` cannot
    read them)."""
    where = f'{source}: result #{n + 1} (image id {res["image_id"]})'
    if field not in res:
        if official:
            first = 'has' if field == 'bbox' else 'has no'
            raise ResultsError(
                f'{where} has no "{field}" while the first result {first} '
                '"bbox"; give every result the same fields'
            )
        other = 'bbox' if iou_type == 'segm' else 'segm'
        raise ResultsError(
            f'{where} has no "{field}", needed for {iou_type} evaluation; '
            f'evaluate the results with iou type {other} '
            f'(--iou-type {other}) or give every result a "{field}"'
        )
    box = res['bbox'] if field == 'bbox' else None
    if field == 'bbox' and not (
        isinstance(box, (list, tuple))
        and len(box) == 4
        and all(isinstance(v, numbers.Real) for v in box)
    ):
        raise ResultsError(
            f'{where}: field "bbox": expected [x, y, w, h], got '
            f'{str(box)[:80]}'
        )
    seg = res.get('segmentation')
    needs_rle = field == 'segmentation' and (official or iou_type == 'segm')
    if (
        needs_rle
        and seg is not None
        and not (
            isinstance(seg, Mapping)
            and isinstance(seg.get('counts'), (str, bytes))
        )
    ):
        raise ResultsError(
            f'{where}: field "segmentation": results give masks as RLE '
            '({"size": [h, w], "counts": ...}, "counts" compressed to a '
            f'string), got {str(seg)[:80]}'
        )


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
    where = f'{source}: result #{n + 1} (image id {res["image_id"]})'
    if res.get('category_id') not in coco_gt.cats:
        raise ResultsError(
            f'{where} has category id {res.get("category_id")!r}, which is '
            f'not a category of {gt_source} (ids {sorted(coco_gt.cats)[:50]})'
        )
    seg, img = res.get('segmentation'), coco_gt.imgs[res['image_id']]
    size = [img.get('height'), img.get('width')]
    if isinstance(seg, Mapping) and list(seg.get('size') or []) != size:
        raise ResultsError(
            f'{where}: field "segmentation": mask size {seg.get("size")} '
            f'differs from the image size [height, width] = {size} of '
            f'{gt_source}'
        )
    score = res.get('score')
    if not isinstance(score, numbers.Real) or isinstance(score, bool):
        raise ResultsError(f'{where} has no numeric "score" (got {score!r})')
