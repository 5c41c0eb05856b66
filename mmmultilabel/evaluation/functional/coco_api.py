"""Load attribute ground truth and attribute results as COCO api objects."""

import contextlib
import copy
import io
from typing import List, Mapping, Optional, Sequence, Union

from mmdet.datasets.api_wrappers import COCO
from mmengine.fileio import load

from mmmultilabel.datasets.loader import load_attr_coco
from mmmultilabel.utils import gc_paused

from .protocol_inputs import ResultsError, check_result


def _coco_from_dict(data: dict, source: str) -> COCO:
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

    Returns:
        COCO: mmdet's COCO api over the canonical dict; its ``source``
        attribute is the file name (``<dict>`` for a dict).
    """
    data = load_attr_coco(
        ann_file, backend_args=backend_args, validate=validate
    )
    source = ann_file if isinstance(ann_file, str) else '<dict>'
    return _coco_from_dict(data, source)


def load_attr_results(
    coco_gt: COCO,
    results: Union[str, Sequence[dict]],
    iou_type: str,
    backend_args: Optional[dict] = None,
    source: Optional[str] = None,
) -> COCO:
    """Results in COCO format (with attribute fields) as a COCO api object.

    Unlike ``COCO.loadRes`` this accepts an empty result list (an image or
    a whole data set without prediction is valid), leaves the given dicts
    untouched, drops ``bbox`` from ``segm`` results so that areas come from
    the masks (as mmdet's ``CocoMetric`` does), and names the offending
    result when an image or category is not in the ground truth.

    Args:
        coco_gt (COCO): Ground truth.
        results (str | Sequence[dict]): Results file or list of results.
        iou_type (str): ``'segm'`` or ``'bbox'``.
        backend_args (dict, optional): Arguments of the file backend.
        source (str, optional): Name of the results in messages. Defaults
            to the file name, or ``<results>`` for a list.

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
    # one dict per result, kept: the cyclic collector would rescan them
    # over and over (gc_paused)
    with gc_paused():
        return _load_attr_results(coco_gt, results, iou_type, source)


def _load_attr_results(
    coco_gt: COCO, results: list, iou_type: str, source: str
) -> COCO:
    """Body of :func:`load_attr_results` (checked results list)."""
    gt_source = getattr(coco_gt, 'source', '<ground truth>')
    field = 'segmentation' if iou_type == 'segm' else 'bbox'
    other = 'bbox' if iou_type == 'segm' else 'segm'
    anns: List[dict] = []
    for n, res in enumerate(results):
        check_result(res, n, coco_gt, source, gt_source)
        if field not in res:
            raise ResultsError(
                f'{source}: result #{n + 1} (image id {res["image_id"]}) '
                f'has no "{field}", needed for {iou_type} evaluation; '
                f'evaluate the results with iou type {other} '
                f'(--iou-type {other}) or give every result a "{field}"'
            )
        if iou_type == 'segm' and not isinstance(res[field], Mapping):
            raise ResultsError(
                f'{source}: result #{n + 1} (image id {res["image_id"]}): '
                'field "segmentation": results give masks as RLE '
                '({"size": [h, w], "counts": ...}), got '
                f'{str(res[field])[:80]}'
            )
        ann = dict(res)
        if iou_type == 'segm':
            ann.pop('bbox', None)
        anns.append(ann)
    if anns:
        with contextlib.redirect_stdout(io.StringIO()):  # progress prints
            coco_dt = coco_gt.loadRes(anns)
    else:
        coco_dt = _coco_from_dict(
            dict(
                images=list(coco_gt.dataset['images']),
                categories=copy.deepcopy(coco_gt.dataset['categories']),
                annotations=[],
            ),
            source,
        )
    coco_dt.source = source
    return coco_dt
