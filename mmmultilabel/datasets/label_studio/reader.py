"""Read Label Studio's JSON export into attribute COCO.

The export (*Export -> JSON*) is a list of tasks, each with ``data`` (the
image URL or path) and ``annotations`` (or ``predictions``), each holding a
``result`` list. What the results become:

* ``polygonlabels`` (points in percent of ``original_width`` /
  ``original_height``), ``brushlabels`` (``value.rle``, see :mod:`.brush`)
  and ``rectanglelabels`` (x, y, width, height in percent, ``rotation`` in
  degrees about the top-left corner): one instance each, its category the
  one label of the region. A rectangle is a box-only instance (no mask),
  a polygon of its corners, or skipped (``rectangles``);
* ``choices`` results carrying the ``id`` of a region (Label Studio's
  per-region choices): the values of the attribute group named by their
  ``from_name``. A group a region has no choices for is unknown; Label
  Studio writes no result for a multi-label group with nothing ticked, so
  such a group is unknown too, never known-empty;
* ``choices`` not linked to a region (task-level classification) and every
  other result type (``textarea``, ``rating``, ``keypointlabels``, ...):
  skipped and counted by type.

Of several annotations of a task, the latest one not cancelled (greatest
``updated_at``, else ``created_at``, else the last listed) is read; a task
with none is skipped and counted. The groups and categories come from the
labelling config when one is given (:class:`.LabelConfig`), else from what
the results hold: the categories sorted by name, each group's values
sorted, a group multi-label when a region has several of its values.
"""

import os.path as osp
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import parse_qs, unquote, urlparse

import cv2
import numpy as np
from tqdm import tqdm

from mmmultilabel.utils import AnnotationSyntaxError, InputError

from ..coco_output import build_coco, coco_attributes
from ..completion import is_positive_int
from ..formats import read_annotation_file
from ..labelme import shape_to_polygon
from ..regions import points_box, region_segmentation
from .brush import BrushRLEError, rle_to_mask
from .config import LabelConfig

#: Result types read as instances.
REGION_TYPES = ('polygonlabels', 'brushlabels', 'rectanglelabels')
#: Where the tasks keep the results to read.
SOURCES = ('annotations', 'predictions')
#: What becomes of a rectangle.
RECTANGLE_MODES = ('box', 'polygon', 'skip')
#: Label Studio's prefix of uploaded file names (``/data/upload/``).
_UPLOAD_PREFIX = re.compile(r'^[0-9a-f]{8}-(.+)$')


class LabelStudioError(InputError):
    """A Label Studio export that cannot be read at all."""


@dataclass
class LabelStudioResult:
    """Outcome of :func:`convert_label_studio`.

    Attributes:
        coco (dict): Attribute COCO (no images when there are defects and
            they are not skipped).
        defects (list[str]): Each naming the file, task and region.
        skipped_tasks (list): Ids of the tasks left out for defects.
        warnings (list[str]): What was skipped or guessed, with counts.
        kept (Counter): Instances written by result type.
        skipped (Counter): Results and tasks skipped, by kind.
    """

    coco: dict
    defects: List[str] = field(default_factory=list)
    skipped_tasks: List[Any] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    kept: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)


class _Defect(Exception):
    """One defect of a task; the converter adds where it is."""


def image_candidates(ref: str, img_dir: str) -> List[str]:
    """Local paths where the image of a task's ``data`` may be, in order.

    Args:
        ref (str): ``/data/upload/<project>/<uuid>-name.jpg``,
            ``/data/local-files/?d=dir/name.jpg``, a URL or a path.
        img_dir (str): The local images folder.

    Returns:
        list[str]: Candidate paths below ``img_dir`` (an absolute path
        first when ``ref`` is one): the relative path Label Studio names
        when it names one, then the file name, then the file name without
        Label Studio's upload prefix.
    """
    parsed = urlparse(ref)
    rel = None
    if parsed.path.startswith('/data/local-files'):
        rel = unquote(parse_qs(parsed.query).get('d', [''])[0])
    elif not parsed.scheme and not parsed.path.startswith('/data/upload/'):
        rel = ref
    name = osp.basename(unquote(parsed.path if rel is None else rel))
    out = [rel] if rel and osp.isabs(rel) else []
    if rel and not osp.isabs(rel):
        out.append(osp.join(img_dir, rel))
    out.append(osp.join(img_dir, name))
    stripped = _UPLOAD_PREFIX.match(name)
    if stripped:
        out.append(osp.join(img_dir, stripped.group(1)))
    return list(dict.fromkeys(osp.normpath(p) for p in out))


def _timestamp(text: Any) -> Optional[datetime]:
    if not isinstance(text, str):
        return None
    try:
        stamp = datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else None


def pick_annotation(candidates: Sequence[Any]) -> Optional[dict]:
    """The latest annotation not cancelled (module doc), or None."""
    usable = [
        (i, a)
        for i, a in enumerate(candidates)
        if isinstance(a, dict) and not a.get('was_cancelled')
    ]
    if not usable:
        return None

    def key(item: Tuple[int, dict]):
        i, a = item
        stamp = _timestamp(a.get('updated_at')) or _timestamp(
            a.get('created_at')
        )
        return (stamp is not None, stamp.timestamp() if stamp else 0, i)

    return max(usable, key=key)[1]


def _pixel_size(result: Mapping) -> Tuple[int, int]:
    w, h = result.get('original_width'), result.get('original_height')
    if not (is_positive_int(w) and is_positive_int(h)):
        raise _Defect(
            'original_width and original_height must be positive integers, '
            f'got {w!r} and {h!r}; export again with Export -> JSON'
        )
    return h, w


def rectangle_corners(value: Mapping, height: int, width: int) -> np.ndarray:
    """Pixel corners of a ``rectanglelabels`` value, shape (4, 2).

    ``x``, ``y``, ``width``, ``height`` are percent of the image size;
    ``rotation`` (degrees, clockwise on screen) turns the box about its
    top-left corner, as Label Studio draws it.
    """
    try:
        x, y, w, h = (float(value[k]) for k in ('x', 'y', 'width', 'height'))
        angle = np.deg2rad(float(value.get('rotation') or 0))
    except (KeyError, TypeError, ValueError):
        raise _Defect(
            'a rectangle needs numbers "x", "y", "width" and "height" '
            f'(percent), got {str(dict(value))[:80]}'
        ) from None
    scale = np.array([width, height]) / 100.0
    # (4, 2) offsets in pixels from the top-left corner, then rotated.
    offsets = np.array([[0, 0], [w, 0], [w, h], [0, h]]) * scale
    rot = np.array(
        [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    )
    return np.array([x, y]) * scale + offsets @ rot.T


class _TaskReader:
    """Reads the regions and choices of one task into instances."""

    def __init__(self, converter: '_Converter', task: Mapping) -> None:
        self.c = converter
        self.task = task
        self.size: Optional[Tuple[int, int]] = None  # (H, W)

    def check_size(self, result: Mapping) -> Tuple[int, int]:
        size = _pixel_size(result)
        if self.size is not None and size != self.size:
            raise _Defect(
                f'image size {size[1]}x{size[0]} differs from '
                f'{self.size[1]}x{self.size[0]} of other results (width x '
                'height); all results of a task describe one image'
            )
        self.size = size
        return size

    def label(self, result: Mapping, kind: str) -> str:
        labels = result['value'].get(kind)
        if not isinstance(labels, list) or len(labels) != 1:
            raise _Defect(
                f'a region needs exactly one label in value.{kind}, got '
                f'{labels!r}; give it one label in Label Studio'
            )
        label = labels[0]
        config = self.c.config
        if config is not None and label not in config.categories:
            raise _Defect(
                f'label {label!r} is not in the labelling config (labels: '
                f'{config.categories}); add <Label value="{label}"/> to '
                'the config or relabel the region'
            )
        return str(label)

    def region(self, result: Mapping, kind: str) -> Optional[dict]:
        """The instance of a region result: ``category``, ``region`` (the
        keyword arguments of :func:`~..regions.region_segmentation`, or
        ``bbox`` for a box-only one) and ``score``; None for a skipped
        rectangle."""
        if kind == 'rectanglelabels' and self.c.rectangles == 'skip':
            self.c.skipped['rectanglelabels (--rectangles skip)'] += 1
            return None
        height, width = self.check_size(result)
        value = result['value']
        inst = dict(
            category=self.label(result, kind),
            id=result.get('id'),
            type=kind,
            values={},
        )
        if kind == 'brushlabels':
            if value.get('format', 'rle') != 'rle':
                raise _Defect(
                    f'brush format {value.get("format")!r} is not read; '
                    'Label Studio writes "rle"'
                )
            try:
                mask = rle_to_mask(value.get('rle'), height, width)
            except BrushRLEError as err:
                raise _Defect(
                    f'broken brush RLE: {err}; redraw the region or export '
                    'again'
                ) from None
            inst['region'] = dict(polygons=[], masks=[mask])
        else:
            if kind == 'polygonlabels':
                try:
                    pts = np.asarray(value.get('points'), float)
                    pts = pts.reshape(-1, 2) * [width / 100, height / 100]
                except (TypeError, ValueError):
                    raise _Defect(
                        'value.points must be [[x, y], ...] in percent, got '
                        f'{str(value.get("points"))[:60]}'
                    ) from None
            else:
                pts = rectangle_corners(value, height, width)
                if self.c.rectangles == 'box':
                    box = points_box(np.clip(pts, 0, [width, height]))
                    if box[2] <= 0 or box[3] <= 0:
                        raise _Defect('the rectangle has no area in the image')
                    inst['box'] = dict(bbox=box, area=box[2] * box[3])
                    return inst
            shape = dict(shape_type='polygon', points=pts.tolist())
            try:
                polygon = shape_to_polygon(shape, width, height)
            except InputError as err:
                raise _Defect(str(err)) from None
            inst['region'] = dict(polygons=[polygon], masks=[])
        return inst

    def choices(self, result: Mapping, inst: dict) -> None:
        """Add the values of a per-region ``choices`` result to ``inst``."""
        group = result.get('from_name')
        values = result['value'].get('choices')
        if not isinstance(values, list) or not all(
            isinstance(v, str) for v in values
        ):
            raise _Defect(
                f'choices "{group}": value.choices must be a list of '
                f'strings, got {values!r}'
            )
        config = self.c.config
        if config is not None:
            spec = self.c.groups.get(group)
            if spec is None:
                raise _Defect(
                    f'choices "{group}" is not a per-region <Choices> of '
                    'the labelling config (per-region groups: '
                    f'{list(self.c.groups)}); add it with perRegion="true"'
                )
            aliases = config.aliases[group]
            bad = [v for v in values if v not in aliases]
            if bad:
                raise _Defect(
                    f'choices "{group}": {bad} not among the config\'s '
                    f'choices {spec["values"]}; add <Choice value="'
                    f'{bad[0]}"/> to the config or correct the region'
                )
            values = [aliases[v] for v in values]
            allowed = spec.get('categories')
            if allowed and inst['category'] not in allowed:
                self.c.skipped[
                    f'choices "{group}" on a label it does not apply to'
                ] += 1
                return
        inst['values'].setdefault(group, []).extend(values)

    def read(self) -> Tuple[Optional[List[dict]], Counter]:
        """Instances of the task's picked annotation (None when it has
        none) and the results skipped by kind.

        Raises:
            _Defect: naming the region (its ``id`` and label) at fault.
        """
        ann = pick_annotation(self.task.get(self.c.source) or [])
        if ann is None:
            return None, Counter()
        results = ann.get('result')
        if not isinstance(results, list):
            raise _Defect(f'the {self.c.source} entry has no "result" list')
        instances: Dict[Any, dict] = {}
        choices, skipped = [], Counter()
        for result in results:
            kind = result.get('type') if isinstance(result, dict) else None
            if not isinstance(result, dict) or not isinstance(
                result.get('value'), dict
            ):
                raise _Defect(f'a result without "value": {str(result)[:60]}')
            where = f'region {result.get("id")!r} ({kind})'
            try:
                if kind in REGION_TYPES:
                    inst = self.region(result, kind)
                    if inst is not None:
                        instances[result.get('id')] = inst
                elif kind == 'choices':
                    choices.append(result)
                else:
                    skipped[kind] += 1
            except _Defect as err:
                raise _Defect(f'{where}: {err}') from None
        for result in choices:
            inst = instances.get(result.get('id'))
            if inst is None:
                name = result.get('from_name')
                skipped[f'choices "{name}" not linked to a region'] += 1
                continue
            try:
                self.choices(result, inst)
            except _Defect as err:
                raise _Defect(
                    f'region {result.get("id")!r} ({inst["category"]}): '
                    f'{err}'
                ) from None
        return list(instances.values()), skipped


class _Converter:
    """Converts the tasks of one export file."""

    def __init__(
        self,
        path: str,
        config: Optional[LabelConfig],
        img_dir: str,
        source: str,
        rectangles: str,
        data_key: Optional[str],
    ) -> None:
        self.path = path
        self.config = config
        self.img_dir = img_dir
        self.source = source
        self.rectangles = rectangles
        self.data_key = data_key or (config.data_key if config else None)
        self.groups = {g['name']: g for g in (config.groups if config else [])}
        self.skipped: Counter = Counter()
        self.unlabelled = 0  # tasks without a usable annotation

    def image(self, task: Mapping, size: Optional[Tuple[int, int]]) -> dict:
        data = task.get('data')
        if not isinstance(data, dict):
            raise _Defect('no "data" object')
        key = self.data_key or ('image' if 'image' in data else None)
        ref = data.get(key) if key else None
        if not isinstance(ref, str) or not ref:
            raise _Defect(
                f'no image reference in data (keys {sorted(data)}); give the '
                'labelling config (its <Image value="$key">) or --data-key'
            )
        tried = image_candidates(ref, self.img_dir)
        found = next((p for p in tried if osp.isfile(p)), None)
        if found is None:
            raise _Defect(
                f'image {ref!r} not found (looked for {tried}); copy the '
                f'images into {self.img_dir} or pass --img-dir with the '
                'folder that holds them (Label Studio keeps uploads in '
                '<its data folder>/media/upload/<project id>/)'
            )
        if size is None:  # no region gives the size: read the image
            img = cv2.imread(found, cv2.IMREAD_UNCHANGED)
            if img is None:
                raise _Defect(f'image {found} cannot be read')
            size = img.shape[:2]
        rel = osp.relpath(found, self.img_dir).replace(osp.sep, '/')
        return dict(file_name=rel, height=int(size[0]), width=int(size[1]))

    def task(self, task: Any) -> Optional[Tuple[dict, List[dict]]]:
        if not isinstance(task, dict):
            raise _Defect(f'a task must be an object, got {str(task)[:60]}')
        reader = _TaskReader(self, task)
        instances, skipped = reader.read()
        if instances is None:
            self.unlabelled += 1
            return None
        image = self.image(task, reader.size)
        self.skipped.update(skipped)
        return image, instances


def _infer_groups(converted: Sequence[Tuple[dict, List[dict]]]) -> List[dict]:
    values: Dict[str, set] = {}
    multi: Dict[str, bool] = {}
    for _, instances in converted:
        for inst in instances:
            for group, vals in inst['values'].items():
                values.setdefault(group, set()).update(vals)
                multi[group] = multi.get(group, False) or len(set(vals)) > 1
    return [
        dict(name=g, values=sorted(values[g]), multi_label=multi[g])
        for g in sorted(values)
    ]


def _annotation(
    inst: dict, groups: Mapping[str, dict], height: int, width: int
) -> dict:
    """COCO annotation of an instance, ``category`` still a name."""
    if 'box' in inst:
        ann = dict(category=inst['category'], **inst['box'])
    else:
        try:
            segmentation, area, bbox = region_segmentation(
                **inst['region'], height=height, width=width
            )
        except InputError as err:
            raise _Defect(f'region {inst["id"]!r}: {err}') from None
        ann = dict(
            category=inst['category'],
            segmentation=segmentation,
            area=area,
            bbox=bbox,
        )
    ann['iscrowd'] = 0
    try:
        attributes = coco_attributes(
            (name, groups[name]['values'], groups[name]['multi_label'], vals)
            for name, vals in inst['values'].items()
        )
    except InputError as err:
        raise _Defect(
            f'region {inst["id"]!r}: {err}; keep one, or make the '
            '<Choices> choice="multiple"'
        ) from None
    if attributes:
        ann['attributes'] = attributes
    return ann


def load_tasks(path: str) -> List[Any]:
    """The task list of a JSON export.

    Raises:
        LabelStudioError: for a file that is not JSON, a JSON-MIN export
            or anything but a list of tasks.
    """
    try:
        tasks = read_annotation_file(path)
    except AnnotationSyntaxError as err:
        raise LabelStudioError(str(err)) from None
    except OSError as err:
        raise LabelStudioError(
            f'{path}: cannot read the file ({err})'
        ) from None
    if isinstance(tasks, dict) and 'data' in tasks:
        tasks = [tasks]  # one task
    if not isinstance(tasks, list):
        raise LabelStudioError(
            f"{path}: expected the list of tasks of Label Studio's Export "
            f'-> JSON, got a JSON {type(tasks).__name__}'
        )
    first = next((t for t in tasks if isinstance(t, dict)), {})
    if (
        first
        and 'data' not in first
        and ('annotation_id' in first or 'annotator' in first)
    ):
        raise LabelStudioError(
            f'{path}: this is a JSON-MIN export, which is not supported: its '
            'regions carry no ids, so per-region choices cannot be linked to '
            'their regions. Export the project with Export -> JSON instead'
        )
    return tasks


def convert_label_studio(
    path: str,
    config: Optional[LabelConfig] = None,
    img_dir: Optional[str] = None,
    source: str = 'annotations',
    rectangles: str = 'box',
    data_key: Optional[str] = None,
    skip_invalid: bool = False,
    progress: bool = True,
) -> LabelStudioResult:
    """Convert a Label Studio JSON export to attribute COCO (module doc).

    Args:
        path (str): The exported ``.json`` file.
        config (LabelConfig, optional): The project's labelling config;
            None infers categories and groups from the results.
        img_dir (str, optional): Folder of the images; ``file_name``\\ s are
            relative to it. Defaults to the folder of ``path``.
        source (str): ``'annotations'``, or ``'predictions'`` to read the
            predictions (pre-annotations) as annotations.
        rectangles (str): ``'box'`` (box-only instances), ``'polygon'``
            (instances masked by their four corners) or ``'skip'``.
        data_key (str, optional): Task data key of the image. Defaults to
            the config's ``<Image value>``, else ``image``.
        skip_invalid (bool): Leave tasks with defects out instead of
            writing nothing.
        progress (bool): Show a progress bar.

    Returns:
        LabelStudioResult: The COCO dict, defects, counts and warnings.

    Raises:
        LabelStudioError: if the file cannot be read as a task list.
    """
    if source not in SOURCES:
        raise LabelStudioError(
            f'source must be one of {SOURCES}, got {source!r}'
        )
    if rectangles not in RECTANGLE_MODES:
        raise LabelStudioError(
            f'rectangles must be one of {RECTANGLE_MODES}, got {rectangles!r}'
        )
    tasks = load_tasks(path)
    img_dir = img_dir or osp.dirname(osp.abspath(path))
    conv = _Converter(path, config, img_dir, source, rectangles, data_key)
    out = LabelStudioResult(coco={})
    converted = []
    several = 0
    for i, task in enumerate(
        tqdm(tasks, desc='labelstudio2coco', unit='task', disable=not progress)
    ):
        task_id = (
            task.get('id', f'#{i}') if isinstance(task, dict) else f'#{i}'
        )
        try:
            item = conv.task(task)
        except _Defect as err:
            out.defects.append(f'{path}: task {task_id}: {err}')
            out.skipped_tasks.append(task_id)
            continue
        if item is not None:
            converted.append((task_id, item))
            anns = task.get(source) or []
            several += (
                sum(
                    isinstance(a, dict) and not a.get('was_cancelled')
                    for a in anns
                )
                > 1
            )
    groups = (
        config.groups if config else _infer_groups([c for _, c in converted])
    )
    by_name = {g['name']: g for g in groups}
    coco_items = []
    for task_id, (image, instances) in converted:
        try:
            anns = [
                _annotation(inst, by_name, image['height'], image['width'])
                for inst in instances
            ]
        except _Defect as err:
            out.defects.append(f'{path}: task {task_id}: {err}')
            out.skipped_tasks.append(task_id)
            continue
        coco_items.append((image, anns))
        out.kept.update(inst['type'] for inst in instances)
    if out.defects and not skip_invalid:
        coco_items = []
    categories = (
        [dict(id=i + 1, name=n) for i, n in enumerate(config.categories)]
        if config
        else None
    )
    out.coco = build_coco(coco_items, categories, groups)
    out.skipped = conv.skipped
    if several:
        out.warnings.append(
            f'{several} task(s) have several {source}: the latest one not '
            'cancelled was read from each'
        )
    for kind, n in sorted(conv.skipped.items()):
        out.warnings.append(f'skipped {n} result(s): {kind}')
    if conv.unlabelled:
        out.skipped[f'tasks without {source}'] = conv.unlabelled
        out.warnings.append(
            f'skipped {conv.unlabelled} task(s) without {source} (or with '
            'all of them cancelled)'
        )
    if config is None and groups:
        listed = '; '.join(
            f'{g["name"]} ({"multi" if g["multi_label"] else "single"}'
            f'-label): {g["values"]}'
            for g in groups
        )
        out.warnings.append(
            'attribute groups inferred from the values found (give '
            f'--label-config to declare them): {listed}'
        )
    return out
