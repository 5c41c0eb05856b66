"""Convert labelme annotations to attribute COCO.

One labelme JSON per image; every region shape (``shape_type`` polygon,
rectangle, oriented_rectangle, circle or mask) is an instance, and shapes
sharing a non-null ``group_id`` form one instance together (one COCO
polygon per shape; an instance with a ``mask`` shape becomes one RLE).

labelme's own conventions (its ``labelme2voc.py``/``labelme2coco.py``):

* ``__ignore__`` (and any label of ``ignore_labels``) marks a region to
  ignore: it is written as an ``iscrowd: 1`` region, never a category;
* ``_background_`` is the background: its shapes are skipped;
* ``line``, ``linestrip``, ``point`` and ``points`` shapes are not regions:
  they are skipped and counted per file.

The category and attributes of a shape come from its label string and/or
its labelme ``flags``:

* label ``car|color=red|size=small|pattern=striped,dotted``: the category
  first, then ``group=value`` tokens separated by ``|``; a multi-label group
  takes comma-separated values, and ``pattern=`` (no value) says "known,
  none of them".
* flags ``{"color=red": true, "pattern=dotted": false}`` (a bare value name
  such as ``"red"`` works when only one group declares it). A single-label
  group takes its one true flag; a multi-label group whose flags appear is
  known, with the values of its true flags (possibly none).

A group given neither way is unknown. Categories and attribute groups are
declared by a :class:`LabelmeSpec` (a small JSON/YAML file or CLI
options); undeclared categories may be inferred (sorted by name).
"""

import base64
import binascii
import math
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.fileio import load
from tqdm import tqdm

from mmmultilabel.utils import (
    AnnotationSyntaxError,
    AttributeGroup,
    AttributeSpec,
    AttributeSpecError,
    InputError,
)

from .coco_output import build_coco, coco_attributes, skipped_warning
from .completion import is_positive_int
from .formats import read_annotation_file
from .regions import (
    RegionError,
    circle_polygon,
    clip_polygon,
    paste_bitmap,
    region_segmentation,
)

#: Shape types drawn as polygons.
POLYGON_TYPES = ('polygon', 'rectangle', 'oriented_rectangle', 'circle')
#: Points of each of them: fewest, most (None: any), what they are.
_POINTS = dict(
    polygon=(3, None, ''),
    rectangle=(2, None, ' (two opposite corners)'),
    oriented_rectangle=(4, 4, ''),
    circle=(2, 2, ' (the center and a point on the circle)'),
)
#: Shape types converted to instances (regions).
SHAPE_TYPES = POLYGON_TYPES + ('mask',)
#: labelme shape types that are not regions: skipped and counted.
NON_REGION_TYPES = ('line', 'linestrip', 'point', 'points')
#: labelme's label for regions to ignore (-1, 255 in its converters).
IGNORE_LABEL = '__ignore__'
#: labelme's background label (0 in its converters): skipped.
BACKGROUND_LABEL = '_background_'


class LabelmeError(InputError):
    """A defect of one labelme file; the message names the file."""


@dataclass
class LabelmeSpec:
    """Declared categories and attribute groups of a labelme folder.

    Args:
        categories (list[dict], optional): COCO categories ``{id, name}``
            in order; None to infer them from the labels (sorted by name,
            ids from 1).
        groups (AttributeSpec): Attribute groups.
        ignore_labels (list[str]): Labels (the category part) of regions
            to ignore; ``__ignore__`` is always one of them. Defaults to
            ``['__ignore__']``.
    """

    categories: Optional[List[dict]] = None
    groups: AttributeSpec = field(default_factory=AttributeSpec)
    ignore_labels: List[str] = field(default_factory=lambda: [IGNORE_LABEL])

    @classmethod
    def from_dict(cls, spec: Mapping) -> 'LabelmeSpec':
        """Build from ``{"categories": [...], "attribute_groups": [...],
        "ignore_labels": [...]}``.

        ``categories`` lists names (ids 1..K in order) or COCO category
        dicts ``{id, name[, supercategory]}``; ``ignore_labels`` (optional)
        lists the labels of regions to ignore.
        """
        unknown = set(spec) - {'categories', 'attribute_groups'}
        unknown -= {'ignore_labels'}
        if unknown:
            raise LabelmeError(
                f'spec: unknown keys {sorted(unknown)}; expected '
                '"categories", "attribute_groups" and "ignore_labels"'
            )
        categories = spec.get('categories')
        if categories is not None:
            categories = [
                dict(id=i + 1, name=c) if isinstance(c, str) else dict(c)
                for i, c in enumerate(categories)
            ]
            for c in categories:
                if not isinstance(c.get('name'), str) or 'id' not in c:
                    raise LabelmeError(
                        'spec: each category is a name or {"id", "name"}, '
                        f'got {c!r}'
                    )
        try:
            groups = AttributeSpec(spec.get('attribute_groups') or [])
        except AttributeSpecError as err:
            raise LabelmeError(f'spec: {err}') from None
        ignore = spec.get('ignore_labels', [IGNORE_LABEL])
        if not isinstance(ignore, list) or not all(
            isinstance(v, str) and v for v in ignore
        ):
            raise LabelmeError(
                f'spec: "ignore_labels" must be a list of labels, got '
                f'{ignore!r}'
            )
        out = cls(categories=categories, groups=groups)
        out.add_ignore_labels(ignore)
        out.check()
        return out

    def add_ignore_labels(self, labels: Sequence[str]) -> None:
        """Add labels of regions to ignore (``__ignore__`` stays one)."""
        for label in labels:
            if label not in self.ignore_labels:
                self.ignore_labels.append(label)

    def check(self) -> None:
        """Raise if an ignore label is also a declared category."""
        names = {c['name'] for c in self.categories or []}
        both = sorted(names & set(self.ignore_labels))
        if both:
            raise LabelmeError(
                f'spec: {both} are both categories and ignore labels; a '
                'region to ignore is never a category'
            )

    @classmethod
    def from_file(cls, path: str) -> 'LabelmeSpec':
        """Read a JSON or YAML spec file (see :meth:`from_dict`)."""
        try:
            return cls.from_dict(load(path))
        except LabelmeError as err:
            raise LabelmeError(f'{path}: {err}') from None


@dataclass
class LabelmeResult:
    """Outcome of :func:`convert_labelme_dir`.

    Attributes:
        coco (dict): Attribute COCO dict of the converted files.
        defects (list[str]): Every defect found, each naming its file.
        skipped (list[str]): Files left out because of defects.
        warnings (list[str]): Per file, the shapes skipped (not regions,
            background), with their counts.
        skipped_shapes (Counter): Skipped shapes of all files by kind
            (shape type, or ``_background_``).
    """

    coco: dict
    defects: List[str]
    skipped: List[str]
    warnings: List[str] = field(default_factory=list)
    skipped_shapes: Counter = field(default_factory=Counter)


def parse_label(label: str) -> Tuple[str, Dict[str, List[str]]]:
    """Split ``category|group=value|group=v1,v2`` into its parts.

    Args:
        label (str): Label string of a labelme shape.

    Returns:
        tuple[str, dict[str, list[str]]]: The category and, per group
        named in the label, its values (an empty list for ``group=``).

    Raises:
        LabelmeError: for an empty category or a token without ``=``.
    """
    parts = [p.strip() for p in str(label).split('|')]
    category = parts[0]
    if not category:
        raise LabelmeError(
            f'label {label!r} has no category before the first "|"'
        )
    attributes: Dict[str, List[str]] = {}
    for token in parts[1:]:
        if '=' not in token:
            raise LabelmeError(
                f'label {label!r}: token {token!r} is not group=value'
            )
        group, values = (s.strip() for s in token.split('=', 1))
        if not group:
            raise LabelmeError(
                f'label {label!r}: token {token!r} has no group name'
            )
        attributes.setdefault(group, []).extend(
            v.strip() for v in values.split(',') if v.strip()
        )
    return category, attributes


def shape_to_polygon(shape: Mapping, width: int, height: int) -> List[float]:
    """COCO polygon of a labelme shape, clamped to the image.

    Args:
        shape (Mapping): Labelme shape with ``shape_type`` and ``points``.
        width (int): Image width.
        height (int): Image height.

    Returns:
        list[float]: ``[x1, y1, x2, y2, ...]`` with at least 3 points.

    Raises:
        LabelmeError: for an unsupported type or degenerate points.
    """
    kind = shape.get('shape_type') or 'polygon'
    points = shape.get('points')
    if kind not in POLYGON_TYPES:
        raise LabelmeError(
            f'shape_type "{kind}" is not supported; regions are '
            f'{list(SHAPE_TYPES)} ({list(NON_REGION_TYPES)} are skipped)'
        )
    try:
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise LabelmeError(
            f'points must be [[x, y], ...], got ' f'{str(points)[:60]}'
        ) from None
    if not np.isfinite(pts).all():
        raise LabelmeError('points contain non-finite numbers')
    fewest, most, what = _POINTS[kind]
    if not fewest <= len(pts) <= (most or len(pts)):
        need = fewest if most == fewest else f'at least {fewest}'
        raise LabelmeError(
            f'{kind} with {len(pts)} points; it needs {need}{what}'
        )
    if kind == 'rectangle':
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
        coords = [x0, y0, x1, y0, x1, y1, x0, y1]
    elif kind == 'circle':
        (cx, cy), (px, py) = pts
        coords = circle_polygon(cx, cy, math.hypot(px - cx, py - cy))
    else:
        coords = pts.reshape(-1).tolist()
    try:
        return clip_polygon(coords, width, height, kind)
    except RegionError as err:
        raise LabelmeError(str(err)) from None


def shape_to_mask(shape: Mapping, width: int, height: int) -> np.ndarray:
    """Image-sized bitmap of a labelme ``mask`` shape.

    The shape's ``mask`` is a base64 PNG of the region's box; its
    ``points`` ``[[x1, y1], [x2, y2]]`` place it as labelme's
    ``shapes_to_label`` does: the top-left corner is ``(x1, y1)`` rounded;
    with integer points the patch is ``(y2 - y1 + 1) x (x2 - x1 + 1)``,
    otherwise the PNG's own size; what falls outside the image is cut.

    Args:
        shape (Mapping): Labelme shape with ``mask`` and ``points``.
        width (int): Image width.
        height (int): Image height.

    Returns:
        np.ndarray: Bool array of shape (height, width).

    Raises:
        LabelmeError: for a missing or unreadable PNG or wrong points.
    """
    data = shape.get('mask')
    if not isinstance(data, str) or not data:
        raise LabelmeError('mask shape without a "mask" (base64 PNG)')
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise LabelmeError('"mask" is not valid base64') from None
    patch = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    if patch is None or patch.ndim != 2:
        raise LabelmeError(
            '"mask" is not a one-channel PNG image'
            + ('' if patch is None else f' (shape {patch.shape})')
        )
    try:
        pts = np.asarray(shape.get('points'), dtype=np.float64)
    except (TypeError, ValueError):
        pts = np.zeros(0)
    if pts.shape != (2, 2) or not np.isfinite(pts).all():
        raise LabelmeError(
            'mask shape needs 2 points (the corners of its box), got '
            f'{str(shape.get("points"))[:60]}'
        )
    (x1, y1), (x2, y2) = pts.round().astype(int)
    if np.array_equal(pts, np.trunc(pts)):
        ph, pw = y2 - y1 + 1, x2 - x1 + 1
        if ph > patch.shape[0] or pw > patch.shape[1] or ph < 1 or pw < 1:
            raise LabelmeError(
                f'mask of {patch.shape[0]}x{patch.shape[1]} (height x '
                f'width) does not fill the {ph}x{pw} box of its points'
            )
    else:
        ph, pw = patch.shape
    return paste_bitmap(patch[:ph, :pw] > 0, x1, y1, height, width)


class _Instance:
    """Category, polygons, bitmaps and attribute values of one instance."""

    def __init__(self, category: str) -> None:
        self.category = category
        self.polygons: List[List[float]] = []
        self.masks: List[np.ndarray] = []  # (H, W) bool each
        self.values: Dict[str, List[str]] = {}  # group -> values seen
        self.known: set = set()  # multi-label groups given explicitly


class _FileConverter:
    """Converts one labelme file; collects its defects."""

    def __init__(self, path: str, spec: LabelmeSpec) -> None:
        self.path = path
        self.spec = spec
        self.defects: List[str] = []
        self.skipped_shapes: Counter = Counter()
        self.cat_names = (
            None
            if spec.categories is None
            else {c['name'] for c in spec.categories}
        )

    def defect(
        self, message: str, shape_idx: Optional[int] = None, label: Any = None
    ) -> None:
        where = self.path
        if shape_idx is not None:
            where += f': shape {shape_idx} (label {label!r})'
        self.defects.append(f'{where}: {message}')

    def resolve_flag(self, name: str) -> Tuple[str, str]:
        """(group, value) of a flag ``group=value`` or a bare value."""
        if '=' in name:
            group, value = (s.strip() for s in name.split('=', 1))
            return group, value
        owners = [g.name for g in self.spec.groups if name in g.values]
        if len(owners) != 1:
            raise LabelmeError(
                f'flag "{name}" is the value of '
                f'{"no" if not owners else "several"} declared group(s) '
                f'{owners}; name it as "group={name}"'
            )
        return owners[0], name

    def group(self, name: str) -> AttributeGroup:
        """The declared group ``name``."""
        try:
            return self.spec.groups.group(name)
        except KeyError:
            raise LabelmeError(
                f'undeclared attribute group "{name}"; declared groups: '
                f'{self.spec.groups.names}'
            ) from None

    def add_value(self, inst: _Instance, group: str, value: str) -> None:
        try:
            self.group(group).value_index(value)
        except AttributeSpecError as err:
            raise LabelmeError(str(err)) from None
        if value not in inst.values.setdefault(group, []):
            inst.values[group].append(value)

    def mark_known(self, inst: _Instance, group: str) -> None:
        if self.group(group).multi_label:
            inst.known.add(group)

    @staticmethod
    def add_region(
        inst: _Instance, shape: Mapping, width: int, height: int
    ) -> None:
        if shape.get('shape_type') == 'mask':
            inst.masks.append(shape_to_mask(shape, width, height))
        else:
            inst.polygons.append(shape_to_polygon(shape, width, height))

    def shape_instance(
        self, shape: Mapping, width: int, height: int
    ) -> _Instance:
        category, label_attrs = parse_label(shape.get('label', ''))
        if self.cat_names is not None and category not in self.cat_names:
            raise LabelmeError(
                f'undeclared category "{category}"; declared: '
                f'{sorted(self.cat_names)}'
            )
        inst = _Instance(category)
        self.add_region(inst, shape, width, height)
        for group, values in label_attrs.items():
            self.mark_known(inst, group)
            for value in values:
                self.add_value(inst, group, value)
        flags = shape.get('flags') or {}
        if not isinstance(flags, dict):
            raise LabelmeError(f'flags must be a mapping, got {flags!r}')
        for name, on in flags.items():
            if not isinstance(on, bool):
                raise LabelmeError(
                    f'flag "{name}" must be true or false, ' f'got {on!r}'
                )
            group, value = self.resolve_flag(name)
            self.mark_known(inst, group)
            if on:
                self.add_value(inst, group, value)
        return inst

    def merge(self, into: _Instance, other: _Instance) -> None:
        """Join two shapes of one ``group_id`` (regions to ignore join
        whatever their ignore label)."""
        ignore = into.category in self.spec.ignore_labels
        if other.category != into.category and not ignore:
            raise LabelmeError(
                f'shapes of one group_id have different categories '
                f'"{into.category}" and "{other.category}"'
            )
        into.polygons += other.polygons
        into.masks += other.masks
        into.known |= other.known
        for group, values in other.values.items():
            for value in values:
                self.add_value(into, group, value)

    def attributes(self, inst: _Instance) -> Dict[str, Any]:
        return coco_attributes(
            (g.name, g.values, g.multi_label, inst.values.get(g.name, []))
            for g in self.spec.groups
            if g.name in inst.known or g.name in inst.values
        )

    def convert(self, src_dir: str) -> Optional[Tuple[dict, List[dict]]]:
        """Image entry and instances, or None if the file is unusable."""
        try:
            data = read_annotation_file(self.path)
        except AnnotationSyntaxError as err:
            self.defects.append(str(err))  # FILE:LINE:COL: invalid JSON
            return None
        if not isinstance(data, dict) or not isinstance(
            data.get('shapes'), list
        ):
            self.defect('not a labelme file: no "shapes" list')
            return None
        width, height = data.get('imageWidth'), data.get('imageHeight')
        if not (is_positive_int(width) and is_positive_int(height)):
            self.defect(
                '"imageWidth" and "imageHeight" must be positive '
                f'integers, got {width!r} and {height!r}'
            )
            return None
        image_path = data.get('imagePath')
        if not isinstance(image_path, str) or not image_path:
            self.defect('"imagePath" is missing')
            return None
        full = osp.normpath(
            osp.join(osp.dirname(self.path), image_path.replace('\\', '/'))
        )
        if not osp.isfile(full):
            self.defect(f'image file not found: {full} (from "imagePath")')
        image = dict(
            file_name=osp.relpath(full, src_dir).replace(os.sep, '/'),
            height=height,
            width=width,
        )

        instances: List[_Instance] = []
        ignored: List[_Instance] = []
        grouped: Dict[Tuple[bool, Any], _Instance] = {}  # (ignore, group_id)
        for i, shape in enumerate(data['shapes']):
            label = shape.get('label') if isinstance(shape, dict) else None
            try:
                if not isinstance(shape, dict):
                    raise LabelmeError(f'expected an object, got {shape!r}')
                kind = shape.get('shape_type') or 'polygon'
                if kind in NON_REGION_TYPES:
                    self.skipped_shapes[kind] += 1
                    continue
                category = parse_label(shape.get('label', ''))[0]
                if category == BACKGROUND_LABEL:
                    self.skipped_shapes[BACKGROUND_LABEL] += 1
                    continue
                ignore = category in self.spec.ignore_labels
                if ignore:  # a region only: no attributes
                    inst = _Instance(category)
                    self.add_region(inst, shape, width, height)
                else:
                    inst = self.shape_instance(shape, width, height)
                key = (ignore, shape.get('group_id'))
                if key[1] is not None and key in grouped:
                    self.merge(grouped[key], inst)
                else:
                    (ignored if ignore else instances).append(inst)
                    if key[1] is not None:
                        grouped[key] = inst
            except LabelmeError as err:
                self.defect(str(err), i, label)
        anns = []
        for inst in instances + ignored:
            try:
                anns.append(self.annotation(inst, width, height))
            except InputError as err:  # RegionError, several values
                self.defect(f'instance "{inst.category}": {err}')
        return image, anns

    def annotation(self, inst: _Instance, width: int, height: int) -> dict:
        """COCO annotation of an instance, ``category`` still a name.

        Regions to ignore get ``iscrowd: 1`` and no attributes; their
        category is filled in by :func:`build_coco`.
        """
        segmentation, area, bbox = region_segmentation(
            inst.polygons, inst.masks, height, width
        )
        ignore = inst.category in self.spec.ignore_labels
        ann = dict(
            category=inst.category,
            segmentation=segmentation,
            area=area,
            bbox=bbox,
            iscrowd=int(ignore),
        )
        attributes = {} if ignore else self.attributes(inst)
        if attributes:
            ann['attributes'] = attributes
        return ann


def find_labelme_files(src_dir: str, exclude: Sequence[str] = ()) -> List[str]:
    """Sorted paths of the ``.json`` files below ``src_dir``."""
    excluded = {osp.abspath(p) for p in exclude}
    found = []
    for root, dirs, files in os.walk(src_dir):
        dirs.sort()
        for name in sorted(files):
            path = osp.join(root, name)
            if name.endswith('.json') and osp.abspath(path) not in excluded:
                found.append(path)
    return found


def convert_labelme_dir(
    src_dir: str,
    spec: Optional[LabelmeSpec] = None,
    skip_invalid: bool = False,
    progress: bool = True,
    exclude: Sequence[str] = (),
) -> LabelmeResult:
    """Convert every labelme JSON below ``src_dir`` to attribute COCO.

    Args:
        src_dir (str): Folder searched recursively for ``*.json``; image
            ``file_name``\\ s are relative to it.
        spec (LabelmeSpec, optional): Declared categories and groups.
            Defaults to inferred categories and no attribute groups.
        skip_invalid (bool): Leave files with defects out instead of
            failing. Defaults to False.
        progress (bool): Show a progress bar. Defaults to True.
        exclude (Sequence[str]): Paths not to read (e.g. the output).

    A region to ignore (an ``ignore_labels`` label) is written once per
    category with ``iscrowd: 1``: COCO evaluation ignores a crowd region
    only for detections of its own category, and labelme's ignore label
    (255 in its ``labelme2voc.py``) ignores the region for every class.

    Returns:
        LabelmeResult: The COCO dict (empty of images when there are
        defects and ``skip_invalid`` is False), the defects, the skipped
        files and the skipped shapes (per file in ``warnings``).
    """
    spec = spec or LabelmeSpec()
    files = find_labelme_files(src_dir, exclude)
    converted, defects, skipped, warnings = [], [], [], []
    skipped_shapes: Counter = Counter()
    for path in tqdm(
        files, desc='labelme2coco', unit='file', disable=not progress
    ):
        converter = _FileConverter(path, spec)
        result = converter.convert(src_dir)
        message = skipped_warning(path, converter.skipped_shapes, 'regions')
        if message:
            warnings.append(message)
            skipped_shapes.update(converter.skipped_shapes)
        if converter.defects:
            defects += converter.defects
            skipped.append(path)
        elif result is not None:
            converted.append(result)
    if not files:
        defects.append(f'{src_dir}: no labelme .json file found')
    if defects and not skip_invalid:
        converted = []

    coco = build_coco(converted, spec.categories, spec.groups.to_list())
    return LabelmeResult(
        coco=coco,
        defects=defects,
        skipped=skipped,
        warnings=warnings,
        skipped_shapes=skipped_shapes,
    )
