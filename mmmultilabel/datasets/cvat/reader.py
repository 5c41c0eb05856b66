"""Read a CVAT for images 1.1 export (task or project) as attribute COCO.

Shapes (children of ``<image>``, or of ``<track>`` in a video export,
where every shape of a track is read on its frame and those with
``outside="1"`` are dropped) become instances:

* ``polygon``: a COCO polygon (clamped to the image);
* ``mask``: CVAT's RLE over ``left, top, width, height``
  (:mod:`.mask_rle`), one COCO RLE;
* ``ellipse``: filled as CVAT fills it for its COCO export
  (``cv2.ellipse`` of the rounded center and axes, ``rotation`` in
  degrees), one COCO RLE;
* ``box``: skipped (``boxes='skip'``) or a box-only instance
  (``boxes='keep'``: ``bbox`` and ``area``, no mask);
* ``polyline``, ``points``, ``skeleton``, ``tag`` and ``cuboid``: skipped
  and counted.

``z_order`` decides overlaps where masks are rasterised: a ``mask`` or
``ellipse`` instance loses the pixels of every instance of its image with
a higher ``z_order`` (an instance left with no pixel is skipped and
counted); polygons keep their vertices (COCO instances may overlap).
``group_id`` (CVAT's grouping of shapes) is not read: each shape is one
instance, and the shapes that carry one are counted in a named warning.

Attribute values (:mod:`.labels` makes the groups): ``__undefined__`` and
absent values are unknown; a shape without a label, a value outside the
label's spec, an attribute or a label not in ``<meta>``, a broken mask
RLE, a missing image and an image listed twice in a subset are errors,
all listed at once in one
:class:`~mmmultilabel.utils.AnnotationDefectError`.
"""

import copy
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple
from xml.etree import ElementTree
from xml.etree.ElementTree import Element

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from tqdm import tqdm

from mmmultilabel.utils import AnnotationDefectError

from ..coco_output import build_coco, skipped_warning
from ..regions import RegionError, clip_polygon, region_segmentation
from .export import CvatExport
from .labels import (
    BOOL_VALUES,
    UNDEFINED,
    CvatError,
    CvatLabels,
    read_labels,
)
from .mask_rle import MaskRleError, decode_mask, parse_rle

#: Shapes that are regions (instances).
REGION_SHAPES = ('polygon', 'mask', 'ellipse')
#: Shapes that are never instances: skipped and counted.
SKIPPED_SHAPES = ('polyline', 'points', 'skeleton', 'tag', 'cuboid')
#: Subset of a task export (one data set).
DEFAULT_SUBSET = 'default'


@dataclass
class CvatOptions:
    """How to read a CVAT export.

    Attributes:
        boxes (str): ``skip`` boxes (counted) or ``keep`` them as box-only
            instances. Defaults to ``skip``.
        checkboxes (str): ``binary`` or ``group`` (see :mod:`.labels`).
        checkbox_group (str): Name of the group of checkboxes.
        occluded (bool): Read ``occluded`` as a group.
        img_dir (str, optional): Image folder of an ``.xml`` export.
    """

    boxes: str = 'skip'
    checkboxes: str = 'binary'
    checkbox_group: str = 'flags'
    occluded: bool = False
    img_dir: Optional[str] = None


@dataclass
class CvatResult:
    """What :func:`read_cvat` read.

    Attributes:
        subsets (dict): Subset name -> attribute COCO dict; image
            ``file_name``\\ s are relative to the export's ``images/``.
        export (CvatExport): The export read.
        project (bool): Whether it is a project export.
        kept (Counter): Instances by shape type.
        skipped (Counter): Skipped shapes by type (``covered``: masks left
            with no pixel by higher ``z_order`` shapes).
        warnings (list[str]): Named warnings (attributes that are no
            group, skipped shapes).
    """

    subsets: Dict[str, dict]
    export: CvatExport
    project: bool
    kept: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    warnings: List[str] = field(default_factory=list)


@dataclass
class _Frame:
    """One image and the shapes on it."""

    name: str
    subset: str
    width: Optional[int]
    height: Optional[int]
    index: Optional[int] = None  # <image id>, or the frame of a track
    shapes: List[Tuple[Element, str]] = field(default_factory=list)


@dataclass
class _Instance:
    label: str
    kind: str
    z_order: int
    attributes: dict
    polygon: Optional[List[float]] = None
    mask: Optional[np.ndarray] = None  # (H, W) bool
    box: Optional[List[float]] = None  # x, y, w, h


def _parse(export: CvatExport) -> Element:
    try:
        with export.open_xml() as f:
            return ElementTree.parse(f).getroot()
    except ElementTree.ParseError as err:
        line, col = err.position
        raise CvatError(
            f'{export.xml_name}:{line}:{col + 1}: invalid XML: {err}'
        ) from None


def _int(value: Optional[str]) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _frames(
    root: Element, project: bool, export: CvatExport
) -> Dict[int, _Frame]:
    """Frames by id: the ``<image>`` elements and the shapes of tracks."""
    task = root.find('meta/task')
    subset = DEFAULT_SUBSET
    if not project and task is not None and task.findtext('subset'):
        subset = task.findtext('subset')
    size = root.find('meta/task/original_size')
    frames: Dict[int, _Frame] = {}  # in document order
    by_id: Dict[Optional[int], int] = {}  # <image id> -> key
    for key, img in enumerate(root.iter('image')):
        frames[key] = _Frame(
            name=img.get('name', ''),
            subset=img.get('subset') or subset,
            width=_int(img.get('width')),
            height=_int(img.get('height')),
            index=_int(img.get('id')),
            shapes=[(el, el.get('label', '')) for el in img],
        )
        by_id.setdefault(_int(img.get('id')), key)
    for track in root.iter('track'):
        label = track.get('label', '')
        for el in track:
            if el.get('outside') == '1':
                continue
            index = _int(el.get('frame'))
            if index not in by_id:  # a video export: frame_NNNNNN
                by_id[index] = len(frames)
                frames[by_id[index]] = _Frame(
                    name=export.frame_name(index),
                    subset=subset,
                    width=_int(size.findtext('width'))
                    if size is not None
                    else None,
                    height=_int(size.findtext('height'))
                    if size is not None
                    else None,
                    index=index,
                )
            frames[by_id[index]].shapes.append((el, label))
    return frames


def _floats(el: Element, names: Tuple[str, ...]) -> List[float]:
    try:
        values = [float(el.get(n)) for n in names]
    except (TypeError, ValueError):
        raise CvatError(
            f'needs numbers {list(names)}, got '
            f'{[el.get(n) for n in names]}'
        ) from None
    if not all(map(math.isfinite, values)):
        raise CvatError(f'{list(names)} must be finite numbers')
    return values


def _polygon(el: Element, width: int, height: int) -> List[float]:
    try:
        pts = [
            float(v)
            for pair in el.get('points', '').split(';')
            for v in pair.split(',')
        ]
    except ValueError:
        raise CvatError(
            f'points must be "x1,y1;x2,y2;...", got '
            f'{el.get("points", "")[:60]!r}'
        ) from None
    if len(pts) % 2 or len(pts) < 6:
        raise CvatError(f'a polygon needs at least 3 points, got {pts!r}')
    return clip_polygon(pts, width, height, 'polygon')


def _ellipse(el: Element, width: int, height: int) -> np.ndarray:
    cx, cy, rx, ry = _floats(el, ('cx', 'cy', 'rx', 'ry'))
    angle = float(el.get('rotation', 0) or 0)
    canvas = np.zeros((height, width), dtype=np.uint8)
    cv2.ellipse(
        canvas, (round(cx), round(cy)), (round(rx), round(ry)), angle, 0,
        360, 1, thickness=-1,
    )  # fmt: skip
    return canvas.astype(bool)


def _mask(el: Element, width: int, height: int) -> np.ndarray:
    box = [_int(el.get(k)) for k in ('left', 'top', 'width', 'height')]
    if None in box:
        raise CvatError(
            'a mask needs integer "left", "top", "width" and "height", got '
            f'{[el.get(k) for k in ("left", "top", "width", "height")]}'
        )
    try:
        return decode_mask(parse_rle(el.get('rle', '')), box, height, width)
    except MaskRleError as err:
        raise CvatError(f'broken mask: {err}') from None


def _box(el: Element) -> List[float]:
    x0, y0, x1, y1 = _floats(el, ('xtl', 'ytl', 'xbr', 'ybr'))
    angle = math.radians(float(el.get('rotation', 0) or 0))
    if angle:  # the box of the rotated corners (about the center)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        c, s = math.cos(angle), math.sin(angle)
        xs, ys = [], []
        for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
            xs.append(cx + c * (x - cx) - s * (y - cy))
            ys.append(cy + s * (x - cx) + c * (y - cy))
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    return [round(v, 2) for v in (x0, y0, x1 - x0, y1 - y0)]


class _Reader:
    """Reads the frames of one export; collects its defects."""

    def __init__(
        self, export: CvatExport, labels: CvatLabels, options: CvatOptions
    ) -> None:
        self.export = export
        self.labels = labels
        self.options = options
        self.group_values = {g['name']: g['values'] for g in labels.groups}
        self.defects: List[str] = []
        self.kept: Counter = Counter()
        self.skipped: Counter = Counter()
        self.grouped = 0  # kept shapes with a group_id

    def attributes(self, el: Element, label: str) -> dict:
        given = {a.get('name'): a.text or '' for a in el.findall('attribute')}
        spec = self.labels.specs[label]
        stray = sorted(set(given) - set(spec))
        if stray:
            raise CvatError(
                f'attribute(s) {stray} are not in the spec of label '
                f'"{label}" in <meta> (its attributes: {list(spec)}); add '
                'them to the label in CVAT and export again'
            )
        out = {}
        for ref in self.labels.refs[label]:
            if ref.kind == 'occluded':
                flag = el.get('occluded')
                if flag in ('0', '1'):
                    out[ref.group] = BOOL_VALUES[int(flag)]
                continue
            values = [given.get(s) for s in ref.sources]
            if any(v is None or v == UNDEFINED for v in values):
                continue  # unknown
            allowed = BOOL_VALUES if ref.kind == 'flags' else None
            allowed = allowed or self.group_values[ref.group]
            for src, value in zip(ref.sources, values):
                if value not in allowed:
                    raise CvatError(
                        f'attribute "{src}" = {value!r} is outside the spec '
                        f'of label "{label}" (values: {list(allowed)}); '
                        + _spec_fix(value, allowed)
                    )
            if ref.kind == 'flags':
                out[ref.group] = [
                    s for s, v in zip(ref.sources, values) if v == 'true'
                ]
            else:
                out[ref.group] = values[0]
        return out

    def instance(
        self, el: Element, label: str, width: int, height: int
    ) -> Optional[_Instance]:
        kind = el.tag
        if kind in SKIPPED_SHAPES or (
            kind == 'box' and self.options.boxes == 'skip'
        ):
            self.skipped[kind] += 1
            return None
        if kind not in REGION_SHAPES + ('box',):
            raise CvatError(
                f'unknown shape <{kind}>; CVAT for images 1.1 has '
                f'{list(REGION_SHAPES + ("box",) + SKIPPED_SHAPES)}'
            )
        if not label:
            raise CvatError(
                'the shape has no label; give it one of '
                f'{list(self.labels.specs)} in CVAT, or delete it'
            )
        if label not in self.labels.specs:
            raise CvatError(
                f'label "{label}" is not in <meta> (labels: '
                f'{list(self.labels.specs)}); export again from CVAT, or '
                'add the label to the project or task'
            )
        if el.get('group_id', '0') not in ('', '0'):
            self.grouped += 1
        inst = _Instance(
            label, kind, _int(el.get('z_order')) or 0,
            self.attributes(el, label),
        )  # fmt: skip
        if kind == 'polygon':
            inst.polygon = _polygon(el, width, height)
        elif kind == 'mask':
            inst.mask = _mask(el, width, height)
        elif kind == 'ellipse':
            inst.mask = _ellipse(el, width, height)
        else:
            inst.box = _box(el)
        return inst

    def frame(self, frame: _Frame, rel: str) -> List[dict]:
        """The annotations of one frame (``category`` still a name)."""
        width, height = frame.width, frame.height
        instances = []
        for i, (el, label) in enumerate(frame.shapes):
            try:
                inst = self.instance(el, label, width, height)
            except (CvatError, RegionError) as err:
                self.defects.append(
                    f'{self.export.xml_name}: image "{rel}": shape {i} '
                    f'(<{el.tag}> label "{label}"): {err}'
                )
                continue
            if inst is not None:
                instances.append(inst)
        _apply_z_order(instances, height, width)
        anns = []
        for inst in instances:
            ann = dict(category=inst.label, iscrowd=0)
            if inst.box is not None:
                ann.update(bbox=inst.box, area=inst.box[2] * inst.box[3])
                if ann['area'] <= 0:
                    self.skipped['empty box'] += 1
                    continue
            else:
                try:
                    seg, area, bbox = region_segmentation(
                        [inst.polygon] if inst.polygon else [],
                        [] if inst.mask is None else [inst.mask],
                        height,
                        width,
                    )
                except RegionError:
                    self.skipped['covered'] += 1
                    continue
                ann.update(segmentation=seg, area=area, bbox=bbox)
            if inst.attributes:
                ann['attributes'] = inst.attributes
            self.kept[inst.kind] += 1
            anns.append(ann)
        return anns


def _spec_fix(value: str, allowed) -> str:
    """How to fix a value outside the spec ``allowed``."""
    if any(value in v.split() for v in allowed if ' ' in v):
        return (
            'the <values> of the spec are separated by spaces, but CVAT '
            'for images 1.1 puts one value per line: put each value on a '
            'line of its own'
        )
    return 'fix the value or the spec in CVAT and export again'


def _apply_z_order(instances: List[_Instance], height: int, width: int):
    """Remove from each bitmap the pixels of higher ``z_order`` regions."""
    if not any(i.mask is not None for i in instances):
        return
    rasters = []
    for inst in instances:
        if inst.mask is not None:
            rasters.append(inst.mask)
        elif inst.polygon is not None:
            rle = mask_utils.frPyObjects([inst.polygon], height, width)
            rasters.append(mask_utils.decode(rle)[..., 0].astype(bool))
        else:
            rasters.append(None)  # a box covers no pixel of a mask
    for inst in instances:
        if inst.mask is None:
            continue
        for other, raster in zip(instances, rasters):
            if raster is not None and other.z_order > inst.z_order:
                inst.mask = inst.mask & ~raster


def read_cvat(
    path: str,
    options: Optional[CvatOptions] = None,
    progress: bool = False,
) -> CvatResult:
    """Read a CVAT for images 1.1 export (``.xml`` or ``.zip``).

    Args:
        path (str): The annotation ``.xml`` or the exported ``.zip``.
        options (CvatOptions, optional): How to read it.
        progress (bool): Show a progress bar over the images.

    Returns:
        CvatResult: One attribute COCO dict per subset (a task export has
        one), the counts and the warnings.

    Raises:
        CvatError: if the export cannot be read at all.
        AnnotationDefectError: listing every defect (file, image, shape,
            fix) when there are any.
    """
    options = options or CvatOptions()
    export = CvatExport(path, options.img_dir)
    root = _parse(export)
    if root.tag != 'annotations':
        raise CvatError(
            f'{export.xml_name}: root element <{root.tag}>, expected '
            '<annotations> (CVAT for images 1.1)'
        )
    meta = root.find('meta')
    labels = read_labels(
        meta,
        export.xml_name,
        options.checkboxes,
        options.checkbox_group,
        options.occluded,
    )
    project = meta.find('project') is not None
    reader = _Reader(export, labels, options)
    converted: Dict[str, list] = {}  # subset -> [(image, annotations)]
    seen: Dict[str, Optional[int]] = {}  # image path -> <image id>
    frames = _frames(root, project, export)
    for index in tqdm(
        sorted(frames), desc='cvat', unit='image', disable=not progress
    ):
        frame = frames[index]
        rel = f'{frame.subset}/{frame.name}' if project else frame.name
        where = f'{export.xml_name}: image "{rel}"'
        if rel in seen:  # one file images/<rel> for two <image>s
            reader.defects.append(
                f'{where} is listed twice (as images {seen[rel]} and '
                f'{frame.index}): rename one of them in CVAT, or move it to '
                'a task of another subset'
            )
            continue
        seen[rel] = frame.index
        if not export.has_image(rel):
            reader.defects.append(
                f'{where}: image file not found: {export.image_path(rel)}; '
                'export with "Save images" checked, or give the image '
                'folder (--img-dir)'
            )
            continue
        if frame.width is None or frame.height is None:
            size = export.image_size(rel)
            if size is None:
                reader.defects.append(
                    f'{where}: no width/height and the image cannot be read'
                )
                continue
            frame.height, frame.width = size
        image = dict(file_name=rel, height=frame.height, width=frame.width)
        converted.setdefault(frame.subset, []).append(
            (image, reader.frame(frame, rel))
        )
    if reader.defects:
        raise AnnotationDefectError(
            path,
            reader.defects,
            hint='Fix them in CVAT and export again (or fix the file).',
        )
    subsets = {
        subset: build_coco(
            items,
            copy.deepcopy(labels.categories),
            copy.deepcopy(labels.groups),
        )
        for subset, items in converted.items()
    }
    result = CvatResult(subsets, export, project, reader.kept, reader.skipped)
    result.warnings = list(labels.warnings)
    skipped = skipped_warning(export.xml_name, reader.skipped, 'instances')
    if skipped:
        result.warnings.append(skipped)
    if reader.grouped:
        result.warnings.append(
            f'{export.xml_name}: {reader.grouped} shape(s) carry a "group_id" '
            '(shapes grouped in CVAT), which is not read: each shape is its '
            'own instance; draw one object as one shape (or one mask) if '
            'the grouped shapes are one object'
        )
    return result
