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
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from mmmultilabel.datasets.completion import is_int
from mmmultilabel.datasets.formats import (
    id_table,
    paco_num_probs,
    read_paco_attributes,
)
from mmmultilabel.datasets.known_fields import FEDERATED_IMAGE_FIELDS, Check
from mmmultilabel.utils.errors import (
    AnnotationDefectError,
    ResultsError,
    is_number,
)

from ..result_forms import check_probs, result_where
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


#: What a missing federated list of an image means here (COCO semantics).
_MISSING_FEDERATED = dict(
    neg_category_ids='every category is treated as verified absent',
    not_exhaustive_category_ids='no category is treated as incomplete',
    neg_category_ids_attrs='every pair is treated as verified absent',
    not_exhaustive_category_ids_attrs='no effect (the official code reads '
    'this list but never uses it)',
)


def _any(value: Any) -> bool:
    return True


_IDS = Check(lambda v: v is None or isinstance(v, list), 'a list of ids')
#: What the evaluator needs of an annotation (before and after the skip of
#: those without a mask), and of a pair of ``joint_obj_attribute_categories``.
_ANN = dict(
    id=Check(_any, 'the annotation id', required=True),
    image_id=Check(_any, 'the id of its image', required=True),
    category_id=Check(_any, 'the id of its category', required=True),
    segmentation=Check(
        lambda v: isinstance(v, (list, Mapping)),
        'its mask (polygons, RLE or [])',
        required=True,
    ),
)
_AREA = Check(
    is_number, 'a number (PACO/LVIS read the area from the file)', True
)
_PAIR = {
    k: Check(is_int, f'the {what} id', required=True)
    for k, what in (
        ('obj', 'category'),
        ('attr', 'attribute'),
        ('obj-attr', 'pair'),
    )
}
_BOX = Check(
    lambda v: isinstance(v, (list, tuple))
    and len(v) == 4
    and all(map(is_number, v)),
    '[x, y, w, h] (4 numbers), needed for bbox evaluation',
    required=True,
)


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
        attr_names (dict[int, str]): Name of every attribute of
            ``attributes``, in a type or not (PACO's evaluator reads
            :func:`~mmmultilabel.datasets.formats.read_paco_attributes`).
        attr_types (dict[str, list]): ``attr_type_to_attr_idxs``.
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
                f'top level: expected a JSON object, got {type(data).__name__}'
            )
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(data.get(key), list):
                self._fail(
                    f'top level: field "{key}" must be a list (PACO '
                    'annotation file)'
                )
        if 'attr_type_to_attr_idxs' not in data:
            self._fail(
                'top level: field "attr_type_to_attr_idxs" is missing: not a '
                'PACO annotation file (the paco protocol reads PACO files as '
                'published; other forms are evaluated with protocol "attr")'
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
        defects: List[str] = []
        table, self.attr_types, self.attr_type = read_paco_attributes(
            data, defects, evaluator=True
        )
        self._fail(*defects)
        self.attr_names = {a: str(e.get('name')) for a, e in table.items()}
        self.num_probs = paco_num_probs(data)
        self._index_annotations(data['annotations'])
        self._index_pairs(data)

    def _fail(self, *defects: Optional[str]) -> None:
        """Raise the defects that are not None, if any."""
        defects = [d for d in defects if d is not None]
        if defects:
            raise AnnotationDefectError(self.source, defects, hint=PACO_HINT)

    def _check(self, where: str, entry: Mapping, checks: Mapping) -> None:
        """Raise the first field of ``entry`` that fails its ``Check``."""
        for name, check in checks.items():
            self._fail(check.defect(where, entry, name))

    def _index_images(self, images: Sequence) -> None:
        self.images: Dict[int, dict] = {}
        missing: Dict[str, int] = defaultdict(int)
        for img in images:
            if not isinstance(img, Mapping) or 'id' not in img:
                self._fail(f'images: an image without "id": {img!r:.200}')
            self._check(
                f'image id={img["id"]}',
                img,
                dict.fromkeys(FEDERATED_IMAGE_FIELDS, _IDS),
            )
            fed = {k: img.get(k) for k in FEDERATED_IMAGE_FIELDS}
            for key in (k for k, v in fed.items() if v is None):
                missing[key] += 1
            self.images[img['id']] = {
                k: v if v is None else set(v) for k, v in fed.items()
            }
        self.img_ids = sorted(self.images)
        for key, count in missing.items():
            self.notes.append(
                f'{count} image(s) without "{key}": {_MISSING_FEDERATED[key]} '
                '(COCO semantics); the official evaluator needs the field'
            )

    def _index_categories(self, cats: Sequence) -> None:
        defects: List[str] = []
        self.cats = id_table(cats, 'categories', defects, is_int, unique=False)
        self._fail(*defects)
        self.cat_ids = sorted(self.cats)
        by_name = {c['name']: c['id'] for c in cats}
        self.obj_ids = sorted(
            i for i, c in self.cats.items() if ':' not in c['name']
        )
        self.part_to_obj: Dict[int, int] = {}
        for pid, cat in sorted(self.cats.items()):
            obj = cat['name'].split(':')[0]
            if obj == cat['name']:
                continue
            if obj not in by_name:
                self._fail(
                    f'category id={pid}: part "{cat["name"]}" names object '
                    f'"{obj}", which is not a category; PACO parts are named '
                    '"<object>:<part>"'
                )
            self.part_to_obj[pid] = by_name[obj]

    def _index_annotations(self, anns: Sequence) -> None:
        by_img: Dict[int, List[dict]] = defaultdict(list)
        self.num_no_mask = self.num_crowd = 0
        for ann in anns:
            if not isinstance(ann, Mapping):
                self._fail(
                    f'annotations: expected an object, got {ann!r:.200}'
                )
            where = f'annotation id={ann.get("id")!r}'
            self._check(where, ann, _ANN)
            if len(ann['segmentation']) == 0:
                self.num_no_mask += 1
                continue
            for key, ids, what in (
                ('image_id', self.images, 'an image'),
                ('category_id', self.cats, 'a category'),
            ):
                if ann[key] not in ids:
                    self._fail(
                        f'{where}: {key.replace("_", " ")} {ann[key]!r} is '
                        f'not {what}'
                    )
            self._check(where, ann, dict(area=_AREA))
            self.num_crowd += bool(ann.get('iscrowd'))
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

    def _index_pairs(self, data: Mapping) -> None:
        entries = data.get('joint_obj_attribute_categories')
        if entries is None:
            entries = self._derive_pairs()
        self.joint: List[Tuple[int, int, int]] = []
        for n, e in enumerate(entries):
            where = f'joint_obj_attribute_categories[{n}]'
            if not isinstance(e, Mapping):
                self._fail(
                    f'{where}: expected {{"obj", "attr", "obj-attr"}}, '
                    f'got {e!r:.200}'
                )
            self._check(where, e, _PAIR)
            where = f'pair id={e["obj-attr"]}'
            if e['obj'] not in self.cats:
                self._fail(
                    f'{where}: category id {e["obj"]} is not a category'
                )
            if e['attr'] not in self.attr_type:
                self._fail(
                    f'{where}: attribute id {e["attr"]} has no type in '
                    '"attr_type_to_attr_idxs"'
                )
            self.joint.append((e['obj-attr'], e['obj'], e['attr']))
        self.pair_of = {j: (c, a) for j, c, a in self.joint}
        self.pair_id = {(c, a): j for j, c, a in self.joint}
        pair_cats = {c for _, c, _ in self.joint}
        # positives of each pair: annotations (with a mask) that list the
        # attribute, whatever their unknown flags say
        self.pair_positives: Dict[Tuple[int, int], List[int]] = defaultdict(
            list
        )
        no_ids = 0
        types = ', '.join(self.attr_types)
        flag = Check(
            _any, f'0 or 1 (PACO sets it for every type: {types})', True
        )
        flags = dict.fromkeys((f'unknown_{t}' for t in self.attr_types), flag)
        for ann in self.anns:
            if ann['category_id'] not in pair_cats:
                continue
            where = f'annotation id={ann["id"]}'
            self._check(where, ann, dict(attribute_ids=_IDS))
            no_ids += ann.get('attribute_ids') is None
            for a in ann.get('attribute_ids') or ():
                j = self.pair_id.get((ann['category_id'], a))
                if j is not None:
                    self.pair_positives[ann['image_id'], j].append(ann['id'])
            self._check(where, ann, flags)
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
                f'image id={ann["image_id"]}: fields "height" and "width" are '
                'needed to read the polygon or uncompressed RLE mask of '
                f'annotation id={ann["id"]}'
            )
        try:
            return self.coco.annToRLE(ann)
        except Exception as err:  # pycocotools raises Exception too
            self._fail(
                f'annotation id={ann["id"]}: field "segmentation" must be '
                f'polygons or RLE, got {str(segm)[:80]} '
                f'({type(err).__name__}: {err})'
            )

    def box(self, ann: Mapping) -> list:
        """``bbox`` of an annotation, needed for ``bbox`` evaluation."""
        self._check(f'annotation id={ann["id"]}', ann, dict(bbox=_BOX))
        return list(ann['bbox'])


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
        where = result_where(source, n, dt)
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
