"""Semantic checks of attribute COCO annotations.

:func:`validate_attr_coco` lists every defect of a parsed annotation dict
(in any form :mod:`.formats` reads) as one message per defect. Each message
names where the defect is (``image id=..``, ``annotation id=.. (image
id=..)``, ``category id=..`` or ``top level``) and the field, and says what
would be right. It never raises on malformed data.

Defects are **errors**: the file cannot be used as it is. **Warnings**
name what is read by a rule rather than as written (a ``bbox`` taken from
the mask, skipped annotations without a mask, a value listed under a PACO
type flagged unknown, unknown fields, ...): the file is usable.
"""

import math
import os.path as osp
from collections import Counter
from itertools import chain
from operator import itemgetter
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import numpy as np
from tqdm import tqdm

from mmmultilabel.utils import AttributeGroup, AttributeSpecError
from mmmultilabel.utils.errors import is_number

from .completion import (
    as_list,
    id_list,
    is_int,
    is_key,
    no_bbox,
    rle_counts_defect,
)
from .formats import to_canonical
from .known_fields import FEDERATED_IMAGE_FIELDS, FIELDS, INT_ID, Check
from .known_fields import short as _short

#: Version of the checks: bump it whenever a check is added or changed, so
#: that files recorded as valid by an earlier version are checked again
#: (see :mod:`.validation_cache`).
VALIDATOR_VERSION = 2

#: How far (in pixels) a polygon point or a box may lie outside the image.
OUTSIDE_TOLERANCE = 1.0

#: Polygons whose coordinates are checked together: bounds the memory of
#: the vectorised passes (about 1 KB per polygon of 16 points).
POLYGON_CHUNK = 16384

#: Per top-level list, what an entry is called and what it looks like (for
#: the message of one that is not an object).
_ENTRIES = dict(
    images=('image', '{"id", "file_name", "height", "width"}'),
    annotations=('annotation', 'an object'),
    categories=('category', '{"id": int, "name": str}'),
)
#: ``bbox`` once present (a missing box is taken from the mask or reported).
_BOX = Check(
    lambda v: isinstance(v, list) and len(v) == 4 and all(map(is_number, v)),
    '[x, y, width, height] (4 numbers)',
)
#: The checked fields of each list but ``id`` (checked for every entry).
_CHECKS = {
    level: [(k, c) for k, c in fields.items() if c and k != 'id']
    for level, fields in FIELDS.items()
}


def _is_numbers(value: Any) -> bool:
    """Whether ``value`` is a list of numbers as numpy reads it: ints and
    floats, and booleans among them."""
    return (
        isinstance(value, list)
        and all(type(v) in (int, float, bool) for v in value)
        and not (value and all(type(v) is bool for v in value))
    )


def _outside(x: float, y: float, size: Optional[Tuple[int, int]]) -> bool:
    """Whether point (x, y) lies outside an image of ``size`` (h, w)."""
    if size is None:
        return False
    h, w = size
    tol = OUTSIDE_TOLERANCE
    return x < -tol or y < -tol or x > w + tol or y > h + tol


def _first_outside(
    xs: np.ndarray, ys: np.ndarray, size: Optional[Tuple[int, int]]
) -> Optional[int]:
    """Index of the first point outside an image of ``size``, if any."""
    points = enumerate(zip(xs, ys))
    return next((k for k, (x, y) in points if _outside(x, y, size)), None)


class _Checker:
    """Collects the defects of one canonical dict."""

    def __init__(
        self,
        data: dict,
        img_dir: Optional[str],
        defects: List[str],
        warnings: List[str],
        progress: bool = False,
    ) -> None:
        self.data = data
        self.img_dir = img_dir
        self.defects = defects
        self.warnings = warnings
        self.polygons: list = []  # (where, index, polygon, image size)
        self.progress = progress
        self.undeclared_neg: Dict[str, List[Any]] = {}
        self.cat_ids: set = set()
        self.cat_names: Dict[Any, str] = {}
        self.groups: Dict[str, AttributeGroup] = {}
        self.broken_groups: set = set()
        self.images: Dict[Any, Mapping] = {}

    def add(self, where: str, field: str, message: str) -> None:
        self.defects.append(f'{where}: field "{field}": {message}')

    def check_field(
        self, where: str, entry: Mapping, name: str, check: Check
    ) -> bool:
        """Check one field by its :class:`~.known_fields.Check`; whether
        it is right (or missing and not required)."""
        defect = check.defect(where, entry, name)
        if defect is not None:
            self.defects.append(defect)
        return defect is None

    def check_fields(self, where: str, entry: Mapping, level: str) -> set:
        """Check the fields of an entry of ``level`` that
        :data:`~.known_fields.FIELDS` gives a check (but ``id``); the names
        of those that are wrong."""
        wrong = set()
        for name, check in _CHECKS[level]:
            test, _, required = check
            if name in entry:
                if test(entry[name]):
                    continue  # the common case, without a call
            elif not required:
                continue
            self.check_field(where, entry, name, check)
            wrong.add(name)
        return wrong

    def entries(self, level: str) -> Iterator[Tuple[int, dict, bool]]:
        """``(index, entry, id is right)`` of the objects of the top-level
        list ``level``; entries that are not objects, ids that are not
        integers (named by index) and ids used twice are reported."""
        ids = []  # the right ones, counted at the end
        kind, shape = _ENTRIES[level]
        for i, entry in enumerate(as_list(self.data.get(level))):
            if not isinstance(entry, dict):
                self.add(
                    'top level',
                    f'{level}[{i}]',
                    f'expected {shape}, got {_short(entry)}',
                )
                continue
            id_ok = INT_ID.test(entry.get('id')) or self.check_field(
                f'{level}[{i}]', entry, 'id', INT_ID
            )
            if id_ok:
                ids.append(entry['id'])
            yield i, entry, id_ok
        for entry_id, n in Counter(ids).items():
            if n > 1:
                self.add(
                    f'{kind} id={entry_id}',
                    'id',
                    f'duplicate id: {n} {level} use it',
                )

    # --------------------------------------------------------------- top
    def run(self) -> None:
        self.check_categories()
        self.check_groups()
        self.check_id_map()
        self.check_images()
        self.check_annotations()
        self.check_polygons()

    # -------------------------------------------------------- categories
    def check_categories(self) -> None:
        names = Counter()
        for _, cat, id_ok in self.entries('categories'):
            if id_ok:
                self.cat_ids.add(cat['id'])
            where = f'category id={cat.get("id")!r}'
            if 'name' not in self.check_fields(where, cat, 'categories'):
                names[cat['name']] += 1
                if id_ok:
                    self.cat_names[cat['id']] = cat['name']
        for name, n in names.items():
            if n > 1:
                self.add(
                    'top level',
                    'categories',
                    f'duplicate category name {name!r} ({n} times); '
                    'names identify classes and must be unique',
                )

    # ----------------------------------------------------------- groups
    def check_groups(self) -> None:
        groups = self.data.get('attribute_groups', [])
        if not isinstance(groups, list):
            self.add(
                'top level',
                'attribute_groups',
                'expected a list of {"name", "values", "multi_label"}, '
                f'got {type(groups).__name__}',
            )
            return
        for i, g in enumerate(groups):
            field = f'attribute_groups[{i}]'
            name = g.get('name') if isinstance(g, dict) else None
            if not isinstance(name, str) or not name:
                self.add(
                    'top level',
                    field,
                    'expected {"name": str, "values": [str, ...], '
                    f'"multi_label": bool}}, got {_short(g)}',
                )
                continue
            if name in self.groups or name in self.broken_groups:
                self.add(
                    'top level', field, f'group "{name}" is declared twice'
                )
                continue
            values, multi = g.get('values'), g.get('multi_label', False)
            wrong = {}  # key of the group -> what is wrong
            if (
                not isinstance(values, list)
                or not values
                or not all(isinstance(v, str) and v for v in values)
            ):
                wrong['values'] = (
                    f'group "{name}" needs a non-empty list of value names, '
                    f'got {_short(values)}'
                )
            elif len(set(values)) != len(values):
                dup = sorted({v for v in values if values.count(v) > 1})
                wrong['values'] = f'group "{name}" repeats values {dup}'
            if not isinstance(multi, bool):
                wrong['multi_label'] = (
                    f'group "{name}": expected true or false, got '
                    f'{_short(multi)}'
                )
            categories = g.get('categories')
            if categories is not None:
                message = self._group_categories(name, categories)
                if message:
                    wrong['categories'] = message
            for key, message in wrong.items():
                self.add('top level', f'{field}.{key}', message)
            if wrong:
                self.broken_groups.add(name)
            else:
                self.groups[name] = AttributeGroup(
                    name,
                    tuple(values),
                    multi,
                    None if categories is None else tuple(categories),
                )

    def _group_categories(self, name: str, categories: Any) -> Optional[str]:
        """What is wrong with the ``categories`` of a group, or None."""
        if not isinstance(categories, list) or not all(
            isinstance(c, str) for c in categories
        ):
            return (
                f'group "{name}" needs a list of the category names it '
                f'applies to, got {_short(categories)}'
            )
        declared = set(self.cat_names.values())
        missing = [c for c in categories if c not in declared]
        if missing:
            return (
                f'group "{name}" applies to {missing}, which are not in '
                f'"categories" (declared: {sorted(declared)}); fix the names'
            )
        return None

    def check_id_map(self) -> None:
        """``attribute_id_map``: source attribute ids of declared values."""
        id_map = self.data.get('attribute_id_map')
        if id_map is None:
            return
        if not isinstance(id_map, list):
            self.add(
                'top level',
                'attribute_id_map',
                'expected a list of {"id", "group", "value"}, got '
                f'{type(id_map).__name__}',
            )
            return
        for i, entry in enumerate(id_map):
            field = f'attribute_id_map[{i}]'
            if not isinstance(entry, dict) or not is_key(entry.get('id')):
                self.add(
                    'top level',
                    field,
                    'expected {"id", "group", "value"}, got '
                    f'{_short(entry)}',
                )
                continue
            name = entry.get('group')
            if is_key(name) and name in self.broken_groups:
                continue  # the group declaration is reported
            group = self.groups.get(name) if is_key(name) else None
            if group is None or entry.get('value') not in group.values:
                self.add(
                    'top level',
                    field,
                    f'{entry.get("group")!r}={entry.get("value")!r} is not '
                    'a declared group and value',
                )

    # ----------------------------------------------------------- images
    def check_images(self) -> None:
        for _, img, id_ok in self.entries('images'):
            if not id_ok:
                continue
            where = f'image id={img["id"]!r}'
            file_name = img.get('file_name')
            if isinstance(file_name, str) and file_name:
                where += f' ("{file_name}")'
            wrong = self.check_fields(where, img, 'images')
            if (
                'file_name' not in wrong
                and self.img_dir is not None
                and not osp.isfile(osp.join(self.img_dir, file_name))
            ):
                self.add(
                    where,
                    'file_name',
                    'image file not found: '
                    f'{osp.join(self.img_dir, file_name)}',
                )
            if img['id'] not in self.images:
                size_ok = 'height' not in wrong and 'width' not in wrong
                self.images[img['id']] = img if size_ok else {}
            for key in FEDERATED_IMAGE_FIELDS:  # category ids (not *_attrs)
                if (
                    key in img
                    and key not in wrong
                    and not key.endswith('_attrs')
                    and any(v not in self.cat_ids for v in img[key])
                ):
                    self.undeclared_neg.setdefault(key, []).append(img['id'])
        for key, img_ids in self.undeclared_neg.items():
            self.warnings.append(
                f'top level: field "images[].{key}": {len(img_ids)} '
                f'image(s) (ids {id_list(img_ids)}) list category ids that '
                'are not in "categories"; they are never evaluated'
            )

    # ------------------------------------------------------ annotations
    def check_annotations(self) -> None:
        bar = tqdm(
            self.entries('annotations'),
            desc='annotations',
            unit='ann',
            total=len(as_list(self.data.get('annotations'))),
            # None: shown on a terminal only
            disable=None if self.progress else True,
            leave=False,
        )
        for _, ann, _ in bar:
            where = (
                f'annotation id={ann.get("id")!r} (image id='
                f'{ann.get("image_id")!r})'
            )
            self.check_annotation(ann, where)

    def check_annotation(self, ann: dict, where: str) -> None:
        img_id = ann.get('image_id')
        size = None
        if not is_key(img_id) or img_id not in self.images:
            self.add(
                where, 'image_id', f'image id {img_id!r} is not in "images"'
            )
        elif self.images[img_id]:
            img = self.images[img_id]
            size = (img['height'], img['width'])
        cat_id = ann.get('category_id')
        if not is_key(cat_id) or cat_id not in self.cat_ids:
            self.add(
                where,
                'category_id',
                f'unknown category id '
                f'{cat_id!r}; declared ids: {sorted(self.cat_ids)}',
            )
        self.check_bbox(ann, where, size)
        if ann.get('segmentation'):
            self.check_segmentation(ann['segmentation'], where, size)
        # area, iscrowd, attributes and partial_attributes are mappings
        self.check_fields(where, ann, 'annotations')
        category = self.cat_names.get(cat_id) if is_key(cat_id) else None
        self.check_attributes(ann.get('attributes'), where, category)
        self.check_partial(ann, where, category)

    def check_bbox(
        self, ann: dict, where: str, size: Optional[Tuple[int, int]]
    ) -> None:
        if no_bbox(ann):
            self.add(
                where,
                'bbox',
                'missing, and it cannot be taken from the mask (no '
                'well-formed mask inside a known image, or the mask covers '
                'no pixel); give [x, y, width, height] or a mask',
            )
            return
        if not (
            _BOX.test(ann['bbox'])
            or self.check_field(where, ann, 'bbox', _BOX)
        ):
            return
        x, y, w, h = bbox = ann['bbox']
        if w <= 0 or h <= 0:
            self.add(
                where,
                'bbox',
                f'degenerate box {bbox}: width and height must be > 0',
            )
        elif _outside(x, y, size) or _outside(x + w, y + h, size):
            self.add(
                where,
                'bbox',
                f'box {bbox} lies outside the '
                f'{size[1]}x{size[0]} (width x height) image',
            )

    def check_segmentation(
        self, seg: Any, where: str, size: Optional[Tuple[int, int]]
    ) -> None:
        if isinstance(seg, dict):
            rle_size, counts = seg.get('size'), seg.get('counts')
            if (
                not isinstance(counts, (str, list))
                or not isinstance(rle_size, list)
                or len(rle_size) != 2
            ):
                self.add(
                    where,
                    'segmentation',
                    'expected an RLE mask '
                    '{"size": [height, width], "counts": ...} or a '
                    f'list of polygons, got {_short(seg)}',
                )
            elif size is not None and tuple(rle_size) != tuple(size):
                self.add(
                    where,
                    'segmentation.size',
                    f'mask outside the image: RLE size {rle_size} '
                    f'differs from the image size {list(size)} '
                    '(height, width)',
                )
            elif isinstance(counts, list) and all(map(is_int, rle_size)):
                defect = rle_counts_defect(counts, *rle_size)
                if defect is not None:
                    self.add(where, 'segmentation.counts', defect)
            return
        if not isinstance(seg, list):
            self.add(
                where,
                'segmentation',
                'expected a list of polygons '
                f'or an RLE dict, got {_short(seg)}',
            )
            return
        for j, poly in enumerate(seg):
            self.polygons.append((where, j, poly, size))

    def check_polygons(self) -> None:
        """Check every polygon gathered by :meth:`check_segmentation`: its
        structure one by one, then the coordinates of the well-formed ones
        (finite, area, image bounds) in vectorised passes; only the
        polygons that fail a pass are looked at again to word the defect."""
        shaped = []
        for item in self.polygons:
            where, j, poly, _ = item
            if isinstance(poly, list) and len(poly) >= 6 and not len(poly) % 2:
                shaped.append(item)
            elif _is_numbers(poly) and all(map(math.isfinite, poly)):
                self.add(
                    where,
                    f'segmentation[{j}]',
                    f'degenerate polygon with {len(poly)} numbers: a '
                    'polygon needs at least 3 points, as an even count of '
                    'x, y numbers',
                )
            else:
                self._not_a_polygon(where, j, poly)
        # Only ints and floats (one C-level pass over every coordinate);
        # otherwise the polygons are checked one by one.
        kinds = set(map(type, chain.from_iterable(p[2] for p in shaped)))
        well_formed = shaped
        if not kinds <= {int, float}:
            well_formed = []
            for item in shaped:
                if _is_numbers(item[2]):
                    well_formed.append(item)
                else:
                    self._not_a_polygon(*item[:3])
        for begin in range(0, len(well_formed), POLYGON_CHUNK):
            self._check_coordinates(well_formed[begin : begin + POLYGON_CHUNK])

    def _check_coordinates(self, well_formed: list) -> None:
        """The vectorised passes of :meth:`check_polygons` over some
        well-formed polygons ``(where, index, polygon, image size)``."""
        # (P, ) points per polygon; all coordinates as one (2 * sum, ) array
        points = np.array([len(p[2]) // 2 for p in well_formed])
        coords = np.fromiter(
            chain.from_iterable(p[2] for p in well_formed), np.float64
        )
        xs, ys = coords[0::2], coords[1::2]
        starts = np.concatenate([[0], np.cumsum(points)[:-1]])
        nxt = np.arange(1, len(xs) + 1)
        nxt[starts + points - 1] = starts  # each polygon closes on itself
        cross = xs * ys[nxt] - xs[nxt] * ys  # shoelace terms
        area = 0.5 * np.abs(np.add.reduceat(cross, starts))
        finite = np.logical_and.reduceat(np.isfinite(coords), 2 * starts)
        sizes = np.array(
            [
                p[3] if p[3] is not None else (np.inf, np.inf)
                for p in well_formed
            ],
            dtype=np.float64,
        )  # (P, 2) height, width
        tol = OUTSIDE_TOLERANCE
        suspect = (
            ~finite
            | (area <= 1e-6)
            | (np.minimum.reduceat(xs, starts) < -tol)
            | (np.minimum.reduceat(ys, starts) < -tol)
            | (np.maximum.reduceat(xs, starts) > sizes[:, 1] + tol)
            | (np.maximum.reduceat(ys, starts) > sizes[:, 0] + tol)
        )
        for k in np.flatnonzero(suspect):
            where, j, poly, size = well_formed[k]
            if not finite[k]:
                self._not_a_polygon(where, j, poly)
                continue
            if area[k] <= 1e-6:
                self.add(
                    where,
                    f'segmentation[{j}]',
                    'degenerate polygon of zero area '
                    '(its points are collinear or repeated)',
                )
            span = slice(starts[k], starts[k] + points[k])
            first = _first_outside(xs[span], ys[span], size)
            if first is not None:
                self.add(
                    where,
                    f'segmentation[{j}]',
                    f'mask outside the image: point ({poly[2 * first]}, '
                    f'{poly[2 * first + 1]}) lies outside the '
                    f'{size[1]}x{size[0]} (width x height) image',
                )

    def _not_a_polygon(self, where: str, j: int, poly: Any) -> None:
        self.add(
            where,
            f'segmentation[{j}]',
            f'expected a polygon [x1, y1, x2, y2, ...], got {_short(poly)}',
        )

    def _undeclared(self, name: str, where: str, key: str) -> None:
        """Report group ``name`` of ``key`` (``attributes`` or
        ``partial_attributes``) unless its declaration is reported (None, so
        that ``groups.get(name) or self._undeclared(...)`` is the group or
        None)."""
        if name not in self.broken_groups:
            self.add(
                where,
                f'{key}.{name}',
                f'undeclared attribute group "{name}"; declared groups: '
                f'{list(self.groups)}',
            )

    def _check_values(
        self, group: AttributeGroup, values: Any, where: str, key: str
    ) -> None:
        """Each value of ``group`` in ``key`` must be a name or an index."""
        field = f'{key}.{group.name}'
        for v in values:
            if isinstance(v, str) and v in group.value_set:
                continue  # a declared name: the common case
            if not isinstance(v, (str, int)):
                self.add(
                    where,
                    field,
                    f'expected a value name or an index, got {_short(v)}',
                )
                continue
            try:
                group.value_index(v)
            except AttributeSpecError as err:
                self.add(where, field, str(err))

    def check_partial(
        self, ann: dict, where: str, category: Optional[str] = None
    ) -> None:
        """``partial_attributes``: values present in a group otherwise
        unknown (multi-label groups only)."""
        partial = ann.get('partial_attributes')
        if not isinstance(partial, dict):
            return  # None, or reported by check_fields
        attributes = ann.get('attributes')
        known = attributes if isinstance(attributes, dict) else {}
        for name, values in partial.items():
            field = f'partial_attributes.{name}'
            group = self.groups.get(name) or self._undeclared(
                name, where, 'partial_attributes'
            )
            if group is None or not self._applies(
                group, category, where, field
            ):
                continue
            if not group.multi_label:
                self.add(
                    where,
                    field,
                    f'group "{name}" is single-label; only multi-label '
                    'groups can be partly known',
                )
            elif known.get(name) is not None:
                self.add(
                    where,
                    field,
                    f'group "{name}" is also known in "attributes"; give '
                    'its values in one of them',
                )
            elif not isinstance(values, list):
                self.add(
                    where,
                    field,
                    f'expected a list of values, got {_short(values)}',
                )
            else:
                self._check_values(group, values, where, 'partial_attributes')

    def _applies(
        self,
        group: AttributeGroup,
        category: Optional[str],
        where: str,
        field: str,
    ) -> bool:
        """Whether a group applies to a category; a defect if not."""
        if category is None or group.applies_to(category):
            return True
        self.add(
            where,
            field,
            f'group "{group.name}" does not apply to category "{category}" '
            f'(it applies to {list(group.categories)}); remove the value or '
            f'add "{category}" to the "categories" of the group',
        )
        return False

    def check_attributes(
        self, attributes: Any, where: str, category: Optional[str] = None
    ) -> None:
        if not isinstance(attributes, dict):
            return  # None, or reported by check_fields
        for name, value in attributes.items():
            group = self.groups.get(name) or self._undeclared(
                name, where, 'attributes'
            )
            if group is None or value is None:
                continue
            if not self._applies(group, category, where, f'attributes.{name}'):
                continue
            if group.multi_label and type(value) is list:
                try:  # declared names only: the common case, in one call
                    if group.value_set.issuperset(value):
                        continue
                except TypeError:  # an unhashable value: reported below
                    pass
            if not group.multi_label and isinstance(value, (list, tuple)):
                self.add(
                    where,
                    f'attributes.{name}',
                    f'group "{name}" is single-label '
                    f'but got a list {_short(value)}; give one value '
                    'or declare the group with "multi_label": true',
                )
                continue
            if value != []:  # (most multi-label groups list no value)
                values = value if isinstance(value, (list, tuple)) else [value]
                self._check_values(group, values, where, 'attributes')


def check_attr_coco(
    data: Any,
    img_dir: Optional[str] = None,
    warnings: Optional[List[str]] = None,
    progress: bool = False,
    groups: Optional[List[dict]] = None,
) -> Tuple[dict, List[str]]:
    """Convert to attribute COCO and list the defects (errors).

    Args:
        data (Any): Parsed annotation file, in any form that
            :func:`.formats.to_canonical` reads.
        img_dir (str, optional): If given, also check that each image's
            ``file_name`` exists below it.
        warnings (list[str], optional): The warnings are appended here;
            they do not make the file unusable.
        progress (bool): Show a progress bar over the annotations on a
            terminal. Defaults to False.
        groups (list[dict], optional): The attribute groups of a file
            that declares none (see :func:`.formats.to_canonical`).

    Returns:
        tuple[dict, list[str]]: The canonical dict (values not yet
        normalised) and one message per defect (empty when the file is
        usable).
    """
    warnings = [] if warnings is None else warnings
    if not isinstance(data, Mapping):
        return {}, [
            'top level: expected a JSON object with "images", '
            f'"annotations" and "categories", got {type(data).__name__}'
        ]
    defects: List[str] = []
    for key in FIELDS:  # the lists, checked before a foreign form is read
        if not isinstance(data.get(key), list):
            got = (
                'missing'
                if key not in data
                else f'got {type(data[key]).__name__}'
            )
            defects.append(
                f'top level: field "{key}": expected a list ({got})'
            )
    canonical = to_canonical(data, defects, warnings, groups)
    _Checker(canonical, img_dir, defects, warnings, progress).run()
    return canonical, defects


def validate_attr_coco(
    data: Any,
    img_dir: Optional[str] = None,
    warnings: Optional[List[str]] = None,
) -> List[str]:
    """List every defect (error) of attribute annotations: those of
    :func:`check_attr_coco`, which takes the same arguments.

    Returns:
        list[str]: One message per defect, each naming the image or
        annotation id and the field; empty when the data is usable.
    """
    return check_attr_coco(data, img_dir, warnings)[1]


def is_parsable(data: Mapping) -> bool:
    """Cheap checks that a canonical dict can be parsed into a data list
    without a crash: each top-level list is a list of objects; image and
    category ids are unique integers; images have a ``file_name`` and an
    integer size; every annotation refers to a declared image and category
    and has a ``bbox`` of 4 numbers, a numeric ``area`` and
    ``attributes`` and ``partial_attributes`` that are objects, if any.

    A file that passed :func:`check_attr_coco` passes these; they run on
    every load that skips the full validation (a file recorded as valid,
    or ``validate='never'``), and a file that fails them is validated in
    full, so that its defects are named.

    Args:
        data (Mapping): Canonical dict from :func:`.formats.to_canonical`.

    Returns:
        bool: Whether the checks pass.
    """
    numbers, mappings = {int, float}, {dict, type(None)}
    try:
        images, anns, cats = (
            data[k] for k in ('images', 'annotations', 'categories')
        )
        if not all(type(v) is list for v in (images, anns, cats)) or not all(
            isinstance(e, dict) for e in chain(images, anns, cats)
        ):
            return False
        img_ids = set(map(itemgetter('id'), images))
        cat_ids = set(map(itemgetter('id'), cats))
        boxes = list(map(itemgetter('bbox'), anns))
        return (
            len(img_ids) == len(images)
            and len(cat_ids) == len(cats)
            and set(map(type, chain(img_ids, cat_ids))) <= {int}
            and set(map(type, map(itemgetter('name'), cats))) <= {str}
            and set(map(type, map(itemgetter('file_name'), images))) <= {str}
            and set(map(type, map(itemgetter('height'), images))) <= {int}
            and set(map(type, map(itemgetter('width'), images))) <= {int}
            and set(map(itemgetter('image_id'), anns)) <= img_ids
            and set(map(itemgetter('category_id'), anns)) <= cat_ids
            and set(map(type, boxes)) <= {list}
            and set(map(len, boxes)) <= {4}
            and set(map(type, chain.from_iterable(boxes))) <= numbers
            and set(map(type, map(itemgetter('area'), anns))) <= numbers
            and {type(a.get('attributes')) for a in anns} <= mappings
            and {type(a.get('partial_attributes')) for a in anns} <= mappings
        )
    except (KeyError, TypeError):  # a missing field, an unhashable id
        return False
