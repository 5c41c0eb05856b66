"""PACO ground truth and PACO results, indexed as PACO's evaluator reads them.

PACO (``facebookresearch/paco``, ``paco/evaluation/paco_eval_api``) reads
its annotation files through LVIS' api. :class:`PacoGroundTruth` indexes a
native PACO dict the same way:

* categories whose name contains ``:`` are object parts (``obj:part``),
  the others objects; a part belongs to the object named before ``:``;
* ``joint_obj_attribute_categories`` (``{"obj", "attr", "obj-attr"}``)
  lists the (category, attribute) pairs that are scored; its ``obj-attr``
  id is the pair's id in ``neg_category_ids_attrs``;
* ``attr_type_to_attr_idxs`` gives each attribute its type; an annotation's
  ``unknown_<type>`` flag is read by the evaluator's unknown rule only, so a
  value listed under a type flagged unknown is still a positive;
* annotations with ``segmentation: []`` (no mask, as in PACO-EGO4D) are
  skipped for ``segm`` *and* ``bbox`` evaluation; ``iscrowd`` is not read
  (LVIS has no crowd regions); ``ignore``, when present, is honoured;
* images carry LVIS' federated lists ``neg_category_ids`` and
  ``not_exhaustive_category_ids`` and their pair versions
  ``neg_category_ids_attrs`` and ``not_exhaustive_category_ids_attrs``.

Where the official code needs a field that a file lacks it stops with a
``KeyError``; here such a file is still evaluated and the choice made is
written to :attr:`PacoGroundTruth.notes` (a missing federated list means an
exhaustively annotated image, as in COCO; missing pairs are derived from the
annotations), and what cannot be evaluated at all raises
:class:`~mmmultilabel.utils.AnnotationDefectError` naming the file, the id
and the fix (:class:`~mmmultilabel.utils.ResultsError` for results).

:func:`load_paco_results` reads results as ``PACOResults`` does: by
pycocotools' ``loadRes`` rules (:func:`~..results_io.load_results`), then
PACO's own (``attribute_probs`` indexed by attribute id, ``max_dets``).
"""

import contextlib
import io
from collections import OrderedDict, defaultdict
from typing import Dict, List, Mapping, NoReturn, Sequence, Tuple

from mmmultilabel.datasets.completion import is_int
from mmmultilabel.datasets.known_fields import FEDERATED_IMAGE_FIELDS
from mmmultilabel.utils.errors import (
    AnnotationDefectError,
    ResultsError,
    is_number,
)

from ..result_forms import check_probs
from ..results_io import coco_from_dict, load_results

#: Attribute names that PACO's hierarchical AP leaves out (its
#: ``heirachrichal_APs``). ``other(color)`` and ``other(transparency)`` are
#: *not* left out: the official list has only these two.
PACO_EXCLUDED_ATTRS = ('other(pattern_marking)', 'other(material)')

#: Last line of a ground-truth error: the rules are PACO's evaluator's.
PACO_HINT = (
    "PACO's evaluator reads the file by the rules of docs/evaluation.md "
    '(PACO protocol)'
)

#: PACO's default (and official) number of detections kept per image.
PACO_MAX_DETS = 300


class PacoGroundTruth:
    """Index of a native PACO ground-truth dict.

    Args:
        data (Mapping): The annotation file's dict (``images``,
            ``annotations``, ``categories``, ``attributes``,
            ``attr_type_to_attr_idxs``, ``joint_obj_attribute_categories``).
        source (str): Name of the file, for messages. Defaults to
            ``'<ground truth>'``.

    Attributes:
        coco (COCO): pycocotools' index of the images and categories (no
            annotations), which reads the masks (``annToRLE``) and the
            results (:func:`~..results_io.load_results`).
        images (dict[int, dict]): The federated lists of every image as
            sets, None where the image has no such field.
        img_ids (list[int]): Sorted image ids (every image is evaluated).
        cat_ids (list[int]): Sorted category ids.
        obj_ids (list[int]): Object categories (name without ``:``).
        part_to_obj (dict[int, int]): Object of every part category.
        joint (list[tuple[int, int, int]]): ``(pair id, category id,
            attribute id)`` of every scored pair, in file order.
        pair_of (dict[int, tuple[int, int]]): ``pair id -> (category id,
            attribute id)``.
        attr_types (OrderedDict[str, list]): ``attr_type_to_attr_idxs``.
        attr_type (dict[int, str]): Type of every attribute id.
        num_probs (int): Length of ``attribute_probs`` (max id + 1).
        anns (list[dict]): Annotations with a mask, in image order.
        pair_positives (dict): ``(image id, pair id) -> [annotation ids]``.
        num_no_mask (int): Annotations skipped for ``segmentation: []``.
        notes (list[str]): Deviations of the file from what the official
            evaluator needs and how they were handled.
    """

    def __init__(self, data: Mapping, source: str = '<ground truth>') -> None:
        self.source = source
        self.notes: List[str] = []
        if not isinstance(data, Mapping):
            self._fail(
                'top level',
                f'expected a JSON object, got {type(data).__name__}',
            )
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(data.get(key), list):
                self._fail(
                    'top level',
                    f'field "{key}" must be a list (PACO annotation file)',
                )
        if 'attr_type_to_attr_idxs' not in data:
            self._fail(
                'top level',
                'field "attr_type_to_attr_idxs" is missing: not a PACO '
                'annotation file (the paco protocol reads PACO files as '
                'published; other forms are evaluated with protocol "attr")',
            )
        self._index_images(data['images'])
        self._index_categories(data['categories'])
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools' log
            self.coco = coco_from_dict(
                dict(
                    images=data['images'],
                    categories=data['categories'],
                    annotations=[],
                ),
                source,
            )
        self._index_attributes(data)
        self._index_annotations(data['annotations'])
        self._index_pairs(data)

    def _fail(self, where: str, msg: str) -> NoReturn:
        raise AnnotationDefectError(
            self.source, [f'{where}: {msg}'], hint=PACO_HINT
        )

    # ------------------------------------------------------------- images
    def _index_images(self, images: Sequence) -> None:
        self.images: Dict[int, dict] = {}
        missing: Dict[str, int] = defaultdict(int)
        for img in images:
            if not isinstance(img, Mapping) or 'id' not in img:
                self._fail('images', f'an image without "id": {img!r:.200}')
            fed = {}
            for key in FEDERATED_IMAGE_FIELDS:
                value = img.get(key)
                if value is None:
                    missing[key] += 1
                    fed[key] = None
                elif not isinstance(value, list):
                    self._fail(
                        f'image id={img["id"]}',
                        f'field "{key}" must be a list of ids, got {value!r}',
                    )
                else:
                    fed[key] = set(value)
            self.images[img['id']] = fed
        self.img_ids = sorted(self.images)
        meaning = dict(
            neg_category_ids='every category is treated as verified absent',
            not_exhaustive_category_ids='no category is treated as '
            'incomplete',
            neg_category_ids_attrs='every pair is treated as verified '
            'absent',
            not_exhaustive_category_ids_attrs='no effect (the official '
            'code reads this list but never uses it)',
        )
        for key, count in missing.items():
            self.notes.append(
                f'{count} image(s) without "{key}": {meaning[key]} (COCO '
                'semantics); the official evaluator needs the field'
            )

    # --------------------------------------------------------- categories
    def _index_categories(self, cats: Sequence) -> None:
        self.cats: Dict[int, dict] = {}
        for cat in cats:
            if (
                not isinstance(cat, Mapping)
                or not is_int(cat.get('id'))
                or not isinstance(cat.get('name'), str)
            ):
                self._fail(
                    'categories',
                    f'expected {{"id": int, "name": str}}, got {cat!r:.200}',
                )
            self.cats[cat['id']] = cat
        self.cat_ids = sorted(self.cats)
        by_name = {c['name']: c['id'] for c in cats}
        self.obj_ids = sorted(
            i for i, c in self.cats.items() if ':' not in c['name']
        )
        self.part_to_obj: Dict[int, int] = {}
        for pid, cat in sorted(self.cats.items()):
            name = cat['name']
            if ':' not in name:
                continue
            obj = name.split(':')[0]
            if obj not in by_name:
                self._fail(
                    f'category id={pid}',
                    f'part "{name}" names object "{obj}", which is not a '
                    'category; PACO parts are named "<object>:<part>"',
                )
            self.part_to_obj[pid] = by_name[obj]

    # --------------------------------------------------------- attributes
    def _index_attributes(self, data: Mapping) -> None:
        attributes = data.get('attributes') or []
        self.attr_names: Dict[int, str] = {}
        for entry in attributes:
            if not isinstance(entry, Mapping) or not is_int(entry.get('id')):
                self._fail(
                    'attributes',
                    f'expected {{"id": int, "name": str}}, got {entry!r:.200}',
                )
            self.attr_names[entry['id']] = str(entry.get('name'))
        types = data.get('attr_type_to_attr_idxs') or {}
        if not isinstance(types, Mapping):
            self._fail(
                'top level',
                'field "attr_type_to_attr_idxs" must map each attribute type '
                'to its attribute ids',
            )
        self.attr_types: Dict[str, List[int]] = OrderedDict(
            (t, list(ids)) for t, ids in types.items()
        )
        # as PACO: the last type that lists an id wins
        self.attr_type = {
            a: t for t, ids in self.attr_types.items() for a in ids
        }

    # -------------------------------------------------------- annotations
    def _index_annotations(self, anns: Sequence) -> None:
        by_img: Dict[int, List[dict]] = defaultdict(list)
        self.num_no_mask = 0
        self.num_crowd = 0
        for ann in anns:
            if not isinstance(ann, Mapping):
                self._fail(
                    'annotations', f'expected an object, got {ann!r:.200}'
                )
            where = f'annotation id={ann.get("id")!r}'
            for key in ('id', 'image_id', 'category_id', 'segmentation'):
                if key not in ann:
                    self._fail(where, f'field "{key}" is missing')
            if len(ann['segmentation']) == 0:
                self.num_no_mask += 1
                continue
            if ann['image_id'] not in self.images:
                self._fail(
                    where, f'image id {ann["image_id"]!r} is not an image'
                )
            if ann['category_id'] not in self.cats:
                self._fail(
                    where,
                    f'category id {ann["category_id"]!r} is not a category',
                )
            if not is_number(ann.get('area')):
                self._fail(
                    where,
                    'field "area" (a number) is missing; PACO/LVIS read the '
                    'area from the file',
                )
            if ann.get('iscrowd'):
                self.num_crowd += 1
            by_img[ann['image_id']].append(ann)
        self.anns = [a for i in self.img_ids for a in by_img.get(i, ())]
        if self.num_no_mask:
            self.notes.append(
                f'{self.num_no_mask} annotation(s) with "segmentation": [] '
                'skipped (PACO skips them for segm and bbox)'
            )
        if self.num_crowd:
            self.notes.append(
                f'{self.num_crowd} annotation(s) with "iscrowd": 1 evaluated '
                'as regular instances (LVIS/PACO have no crowd regions)'
            )

    # -------------------------------------------------------------- pairs
    def _index_pairs(self, data: Mapping) -> None:
        entries = data.get('joint_obj_attribute_categories')
        if entries is None:
            entries = self._derive_pairs()
        self.joint: List[Tuple[int, int, int]] = []
        for e in entries:
            if not isinstance(e, Mapping) or not all(
                is_int(e.get(k)) for k in ('obj', 'attr', 'obj-attr')
            ):
                self._fail(
                    'joint_obj_attribute_categories',
                    'expected {"obj": category id, "attr": attribute id, '
                    f'"obj-attr": pair id}}, got {e!r:.200}',
                )
            if e['obj'] not in self.cats:
                self._fail(
                    f'pair id={e["obj-attr"]}',
                    f'category id {e["obj"]} is not a category',
                )
            if e['attr'] not in self.attr_type:
                self._fail(
                    f'pair id={e["obj-attr"]}',
                    f'attribute id {e["attr"]} has no type in '
                    '"attr_type_to_attr_idxs"',
                )
            self.joint.append((e['obj-attr'], e['obj'], e['attr']))
        self.pair_of = {j: (c, a) for j, c, a in self.joint}
        self.pair_id = {(c, a): j for j, c, a in self.joint}
        pair_cats = {c for _, c, _ in self.joint}
        # attribute_probs is indexed by the ids of attributes and pairs
        ids = [*self.attr_names, *(a for _, _, a in self.joint)]
        self.num_probs = 1 + max((a for a in ids if a >= 0), default=-1)
        # positives of each pair: annotations (with a mask) that list the
        # attribute, whatever their unknown flags say
        self.pair_positives: Dict[Tuple[int, int], List[int]] = defaultdict(
            list
        )
        no_ids = 0
        for ann in self.anns:
            cat = ann['category_id']
            if cat not in pair_cats:
                continue
            ids = ann.get('attribute_ids')
            if ids is None:
                no_ids += 1
                ids = []
            elif not isinstance(ids, list):
                self._fail(
                    f'annotation id={ann["id"]}',
                    f'field "attribute_ids" must be a list, got {ids!r}',
                )
            for a in ids:
                j = self.pair_id.get((cat, a))
                if j is not None:
                    self.pair_positives[ann['image_id'], j].append(ann['id'])
            for t in self.attr_types:
                if f'unknown_{t}' not in ann:
                    self._fail(
                        f'annotation id={ann["id"]}',
                        f'field "unknown_{t}" is missing; PACO annotations '
                        f'carry 0 or 1 for every attribute type '
                        f'({", ".join(self.attr_types)})',
                    )
        if no_ids:
            self.notes.append(
                f'{no_ids} annotation(s) of scored categories without '
                '"attribute_ids": read as no attribute'
            )

    def _derive_pairs(self) -> List[dict]:
        pairs = sorted(
            {
                (a['category_id'], t)
                for a in self.anns
                for t in a.get('attribute_ids') or ()
                if t in self.attr_names
            }
        )
        self.notes.append(
            'no "joint_obj_attribute_categories": scoring the '
            f'{len(pairs)} (category, attribute) pairs that have a '
            'positive, with pair ids 1..N in that order; the official '
            'evaluator needs the field'
        )
        return [
            {'obj': c, 'attr': a, 'obj-attr': n + 1}
            for n, (c, a) in enumerate(pairs)
        ]

    # ------------------------------------------------------------ helpers
    def to_rle(self, ann: Mapping) -> dict:
        """Mask of an annotation as compressed RLE: pycocotools'
        ``COCO.annToRLE``, as ``LVIS.ann_to_rle``; a compressed RLE is read
        without the image size."""
        segm = ann['segmentation']
        if isinstance(segm, Mapping) and isinstance(segm.get('counts'), str):
            return segm
        img = self.coco.imgs[ann['image_id']]
        if not all(is_int(img.get(k)) for k in ('height', 'width')):
            self._fail(
                f'image id={ann["image_id"]}',
                'fields "height" and "width" are needed to read the polygon '
                f'or uncompressed RLE mask of annotation id={ann["id"]}',
            )
        try:
            return self.coco.annToRLE(ann)
        except Exception as err:  # pycocotools raises Exception too
            self._fail(
                f'annotation id={ann["id"]}',
                'field "segmentation" must be polygons or RLE, got '
                f'{str(segm)[:80]} ({type(err).__name__}: {err})',
            )

    def box(self, ann: Mapping) -> list:
        """``bbox`` of an annotation, needed for ``bbox`` evaluation."""
        box = ann.get('bbox')
        if not (
            isinstance(box, (list, tuple))
            and len(box) == 4
            and all(is_number(v) for v in box)
        ):
            self._fail(
                f'annotation id={ann["id"]}',
                f'field "bbox" [x, y, w, h] is needed for bbox evaluation, '
                f'got {box!r}',
            )
        return list(box)


def load_paco_results(
    gt: PacoGroundTruth,
    results: Sequence[Mapping],
    iou_type: str,
    max_dets: int = PACO_MAX_DETS,
    source: str = '<results>',
) -> List[dict]:
    """Results as ``PACOResults`` holds them.

    Read by :func:`~..results_io.load_results` (pycocotools' ``loadRes``,
    whose rules are ``LVISResults``'): for ``segm`` without their ``bbox``,
    which PACO's ``LVISEvaluator`` wrapper drops, so that ``area`` and
    ``bbox`` come from the mask; for ``bbox`` with ``area = w * h`` when
    the first result has a ``bbox`` (else from the mask). Then PACO's own
    rules: ``attribute_probs`` checked, at most ``max_dets`` per image,
    ids in PACO's order, box results with an empty mask left out.

    Args:
        gt (PacoGroundTruth): Ground truth.
        results (Sequence[Mapping]): PACO results: ``image_id``,
            ``category_id``, ``score``, ``segmentation`` (RLE) and/or
            ``bbox`` and ``attribute_probs`` (one probability per attribute
            id, needed for categories that have scored pairs).
        iou_type (str): ``'segm'`` or ``'bbox'``.
        max_dets (int): Detections kept per image (highest scores first,
            ties in file order); negative keeps all. Defaults to 300.
        source (str): Name of the results, for messages.

    Returns:
        list[dict]: Copies with ``id`` (1-based, in PACO's order: grouped
        by image in order of first appearance), ``area``, ``bbox`` or RLE
        ``segmentation`` and ``attribute_probs``; results with an empty
        ``segmentation`` are left out, as PACO does.

    Raises:
        ResultsError: A result that cannot be read, named by its
            1-based number in the file and its image id.
    """
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools' log
        dts = load_results(
            gt.coco, results, iou_type, source, official=iou_type == 'bbox'
        ).dataset['annotations']
    pair_cats = {c for _, c, _ in gt.joint}
    by_img: Dict[int, List[dict]] = OrderedDict()
    for n, dt in enumerate(dts):
        where = f'{source}: result #{n + 1} (image id {dt["image_id"]!r})'
        if not is_number(dt['score']):
            raise ResultsError(f'{where}: field "score" must be a number')
        if 'attribute_probs' in dt:
            check_probs(dt['attribute_probs'], gt.num_probs, where)
        elif dt['category_id'] in pair_cats:
            raise ResultsError(
                f'{where}: field "attribute_probs" is missing; category '
                f'{dt["category_id"]} has scored (category, attribute) pairs '
                'and PACO needs one probability per attribute id'
            )
        by_img.setdefault(dt['image_id'], []).append(dt)
    kept: List[dict] = []
    for items in by_img.values():
        if 0 <= max_dets < len(items):
            items = sorted(items, key=lambda d: d['score'], reverse=True)
            items = items[:max_dets]
        kept.extend(items)
    for new_id, dt in enumerate(kept, start=1):
        dt['id'] = new_id
    # PACO leaves out the box results whose mask is empty
    return [d for d in kept if d['segmentation'] != []]
