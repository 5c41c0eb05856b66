"""Generate the embedded "shapes" data set: labelme files, then COCO.

Each image (128x128 by default) shows 1-4 flat-coloured shapes on a light
background; later shapes may overlap earlier ones (every shape keeps at
least 80% of its area visible, without holes). Per instance:

* category: ``circle``, ``square`` or ``triangle``; squares are
  axis-aligned and triangles stand on their base (with ``--rotate`` both are
  turned at random, half of the squares staying axis-aligned: a harder set,
  on which the demo model needs several times more training to tell the
  shapes apart);
* ``color`` (single-label): red, green, blue or yellow;
* ``size`` (single-label), from the area of the whole (unoccluded) shape:
  small 450-800 px, medium 1300-2000 px, large 2800-3800 px, so the
  thresholds 1000 and 2400 px fall in empty gaps (areas scale with the
  image area for other ``--image-size``\\ s);
* ``pattern`` (multi-label, each drawn with probability 0.3): ``striped``
  (light diagonal stripes), ``dotted`` (dark dots), ``outlined`` (dark
  2 px border); any subset, including none, can occur. With ``--flat``
  no pattern is drawn and the data set has only the ``color`` and ``size``
  groups (flat-coloured shapes).

The generator writes ``OUT_DIR/{train,val}/NNNNNN.png`` with one labelme
JSON each (label strings ``circle|color=red|size=small``, the pattern as
shape flags ``pattern=striped``, hidden parts cut away, split visible parts
joined by ``group_id``), then converts each split with the labelme
converter to ``OUT_DIR/annotations/{train,val}.json``; the spec it uses is
saved as ``OUT_DIR/labelme_spec.json``. The output depends only on the
arguments: the same seed gives byte-identical files.

Held-out families (``--family NAME``; ``shapes``, the default, is the set
above): data sets whose attributes and scenes differ from the embedded
set's, to judge options on data they were not chosen on. Each draws its
own images from ``--seed`` (the same seed gives the same files).

* ``geometry``: circles, triangles, squares in nuisance colours; ``size``
  (small/medium/large by the area of the whole shape, as above, with up to
  45% hidden), ``aspect`` (even, wide 2.2:1, tall 1:2.2) and
  ``orientation`` (level, tilted 20-35 degrees; unknown for even circles);
* ``texture``: shapes in nuisance colours; ``stripes`` (none, coarse
  period 8 px, fine period 4 px) and ``direction`` (horizontal, vertical,
  diagonal; unknown without stripes);
* ``clutter``: up to 10 small overlapping shapes (half of each may be
  hidden); ``color`` and ``size`` (small 150-300, medium 500-800, large
  1100-1600 px);
* ``partial``: six categories (circle, triangle, square, pentagon, hexagon,
  octagon) and groups that apply to some of them only (the ``categories``
  of ``attribute_groups``): ``color`` on all, ``size`` on circles,
  triangles and pentagons, multi-label ``pattern`` (striped, dotted) on
  squares, hexagons and octagons, ``border`` (plain, outlined) on circles,
  squares and hexagons;
* ``longtail``: long-tailed values as Fashionpedia's: ``color`` over eight
  colours with frequencies falling as 1 / rank^1.6, multi-label
  ``pattern`` (striped 35 %, dotted 12 %, checkered 4 %, hatched 1.5 %,
  outlined 0.6 %).

``--flat`` and ``--rotate`` change the ``shapes`` family only.

It refuses to write into a non-empty OUT_DIR; ``--force`` first deletes
what an earlier run wrote there (``train/``, ``val/``, ``annotations/``,
``labelme_spec.json``) and leaves other files alone.

Example:
    python tools/dataset_converters/make_shapes.py data/shapes \
        --num-train 600 --num-val 100 --seed 0
"""

import argparse
import json
import math
import os
import os.path as osp
import shutil
import sys
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import cv2
import numpy as np
import pycocotools.mask as mask_utils
from tqdm import tqdm

from mmmultilabel.datasets.labelme import (
    LabelmeSpec,
    convert_labelme_dir,
    parse_label,
    shape_to_polygon,
)

CATEGORIES = ('circle', 'square', 'triangle')
COLORS = {  # RGB, far apart in hue
    'red': (220, 40, 40),
    'green': (40, 170, 60),
    'blue': (40, 80, 220),
    'yellow': (235, 190, 30),
}
SIZES = {  # nominal area range in pixels of the whole shape
    'small': (450, 800),
    'medium': (1300, 2000),
    'large': (2800, 3800),
}
PATTERNS = ('striped', 'dotted', 'outlined')
PATTERN_PROB = 0.3
MIN_VISIBLE = 0.8  # fraction of each shape that stays visible
MIN_PART_PIXELS = 20  # smallest visible piece of an occluded shape
BACKGROUND = (236, 236, 236)
SPLITS = ('train', 'val')
OWNED = ('train', 'val', 'annotations', 'labelme_spec.json')

SPEC = dict(
    categories=list(CATEGORIES),
    attribute_groups=[
        dict(name='color', values=list(COLORS), multi_label=False),
        dict(name='size', values=list(SIZES), multi_label=False),
        dict(name='pattern', values=list(PATTERNS), multi_label=True),
    ],
)
#: The spec of ``--flat`` data: no pattern group.
FLAT_SPEC = dict(SPEC, attribute_groups=SPEC['attribute_groups'][:2])


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate the shapes data set (labelme + attribute '
        'COCO).'
    )
    parser.add_argument(
        'out_dir',
        nargs='?',
        default='data/shapes',
        help='output folder (default: data/shapes)',
    )
    parser.add_argument(
        '--num-train',
        type=int,
        default=600,
        help='training images (default: 600)',
    )
    parser.add_argument(
        '--num-val',
        type=int,
        default=100,
        help='validation images (default: 100)',
    )
    parser.add_argument(
        '--seed', type=int, default=0, help='random seed (default: 0)'
    )
    parser.add_argument(
        '--image-size',
        type=int,
        default=128,
        help='image width and height (default: 128)',
    )
    parser.add_argument(
        '--max-objects',
        type=int,
        default=4,
        help='most shapes per image (default: 4)',
    )
    parser.add_argument(
        '--rotate',
        action='store_true',
        help='turn squares and triangles at random (harder to classify)',
    )
    parser.add_argument(
        '--flat',
        action='store_true',
        help='flat-coloured shapes: no patterns, only the color and size '
        'groups',
    )
    parser.add_argument(
        '--family',
        default='shapes',
        choices=['shapes', *FAMILIES],
        help='which data set: shapes (default, the embedded set) or a '
        'held-out family whose attributes and scenes differ (see the module '
        'docstring)',
    )
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace the output of an earlier run',
    )
    parser.add_argument(
        '--no-progress', action='store_true', help='do not show progress bars'
    )
    args = parser.parse_args(argv)
    if args.family != 'shapes' and (args.flat or args.rotate):
        parser.error(
            f'--flat and --rotate change the shapes family only; drop them '
            f'or --family {args.family}'
        )
    return args


def random_attributes(
    rng: np.random.Generator, image_size: int, patterns: Sequence[str]
) -> dict:
    """Category, colour, size, area and patterns of one shape.

    Areas scale with the image area; :data:`SIZES` is for 128x128. Only
    the given ``patterns`` are drawn (none for flat shapes).
    """
    size_name = list(SIZES)[rng.integers(len(SIZES))]
    low, high = SIZES[size_name]
    scale = (image_size / 128) ** 2
    return dict(
        category=CATEGORIES[rng.integers(len(CATEGORIES))],
        color=list(COLORS)[rng.integers(len(COLORS))],
        size=size_name,
        area=rng.uniform(low * scale, high * scale),
        patterns={p: bool(rng.random() < PATTERN_PROB) for p in patterns},
    )


def random_shape(
    rng: np.random.Generator, attrs: dict, size: int, rotate: bool = False
) -> dict:
    """A labelme shape with the given attributes at a random place.

    Squares are axis-aligned and triangles point up, unless ``rotate``.
    """
    category, area = attrs['category'], attrs['area']
    angle = rng.uniform(0, 2 * math.pi) if rotate else -math.pi / 2
    if category == 'circle':
        radius = math.sqrt(area / math.pi)
        kind, extent = 'circle', radius
    elif category == 'square':
        side = math.sqrt(area)
        turned = rotate and rng.random() >= 0.5
        kind = 'polygon' if turned else 'rectangle'
        extent = side / 2 if kind == 'rectangle' else side / math.sqrt(2)
        corners = 4
    else:
        side = math.sqrt(4 * area / math.sqrt(3))
        kind, extent, corners = 'polygon', side / math.sqrt(3), 3
    cx, cy = rng.uniform(extent + 2, size - extent - 2, size=2)
    if kind == 'circle':
        points = [[cx, cy], [cx + radius, cy]]
    elif kind == 'rectangle':
        points = [[cx - extent, cy - extent], [cx + extent, cy + extent]]
    else:
        points = [
            [
                cx + extent * math.cos(angle + 2 * math.pi * k / corners),
                cy + extent * math.sin(angle + 2 * math.pi * k / corners),
            ]
            for k in range(corners)
        ]
    return dict(
        label=f'{category}|color={attrs["color"]}|size={attrs["size"]}',
        points=[[round(float(x), 2), round(float(y), 2)] for x, y in points],
        group_id=None,
        description='',
        shape_type=kind,
        flags={f'pattern={p}': on for p, on in attrs['patterns'].items()},
    )


def rasterize(shape: dict, size: int) -> np.ndarray:
    """Mask (H, W) bool of a shape, rasterized as the converter does."""
    poly = shape_to_polygon(shape, size, size)
    rle = mask_utils.merge(mask_utils.frPyObjects([poly], size, size))
    return mask_utils.decode(rle).astype(bool)


def visible_parts(mask: np.ndarray) -> Optional[List[np.ndarray]]:
    """Component masks of a visible region, or None if it has holes."""
    contours, hierarchy = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE
    )
    if hierarchy is not None and (hierarchy[0, :, 3] >= 0).any():
        return None  # a contour with a parent is a hole
    count, labels = cv2.connectedComponents(mask.astype(np.uint8))
    return [labels == i for i in range(1, count)]


def layout_ok(
    masks: List[np.ndarray], min_visible: float = MIN_VISIBLE
) -> bool:
    """Whether every shape keeps ``min_visible`` of its area visible, in
    simple pieces."""
    above = np.zeros_like(masks[0])
    for mask in reversed(masks):
        visible = mask & ~above
        if visible.sum() < min_visible * mask.sum():
            return False
        if visible.sum() < mask.sum():
            parts = visible_parts(visible)
            if parts is None or any(p.sum() < MIN_PART_PIXELS for p in parts):
                return False
        above |= mask
    return True


def mask_polygons(mask: np.ndarray) -> List[List[float]]:
    """Polygons tracing the pixel edges of a mask (one per component).

    The mask is upsampled twice so that the contour runs a quarter pixel
    inside the outer pixel edges; rasterizing the polygons gives the mask
    back (IoU > 0.99).
    """
    up = cv2.resize(
        mask.astype(np.uint8),
        None,
        fx=2,
        fy=2,
        interpolation=cv2.INTER_NEAREST,
    )
    contours, _ = cv2.findContours(
        up, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
    )
    polygons = []
    for contour in contours:
        contour = cv2.approxPolyDP(contour, 1.0, True).reshape(-1, 2)
        if len(contour) >= 3:
            coords = (contour.astype(np.float64) + 0.5) / 2
            polygons.append([round(float(v), 2) for v in coords.reshape(-1)])
    return polygons


def paint(canvas: np.ndarray, mask: np.ndarray, shape: dict) -> None:
    """Paint one shape with its colour and patterns onto an RGB canvas."""
    color_name = parse_label(shape['label'])[1]['color'][0]
    color = np.array(COLORS[color_name], dtype=np.float64)
    canvas[mask] = color
    patterns = [p for p in PATTERNS if shape['flags'].get(f'pattern={p}')]
    draw_patterns(canvas, mask, color, patterns)


def draw_patterns(
    canvas: np.ndarray,
    mask: np.ndarray,
    color: np.ndarray,
    patterns: Sequence[str],
) -> None:
    """Draw the named patterns of :data:`PATTERNS` (and ``checkered``,
    ``hatched``) over a shape of colour ``color`` (3, )."""
    h, w = mask.shape
    yy, xx = np.mgrid[:h, :w]
    if 'striped' in patterns:
        stripes = mask & ((xx + yy) % 6 < 2)
        canvas[stripes] = 0.45 * color + 0.55 * 255
    if 'dotted' in patterns:
        dots = (
            mask & (xx % 6 >= 3) & (xx % 6 < 5) & (yy % 6 >= 3) & (yy % 6 < 5)
        )
        canvas[dots] = 0.35 * color
    if 'checkered' in patterns:
        canvas[mask & ((xx // 4 + yy // 4) % 2 == 0)] = 0.6 * color + 0.4 * 255
    if 'hatched' in patterns:
        canvas[mask & ((xx - yy) % 5 == 0)] = 0.25 * color
    if 'outlined' in patterns:
        inner = cv2.erode(
            mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=2
        ).astype(bool)
        canvas[mask & ~inner] = (20, 20, 20)


def make_image(
    rng: np.random.Generator,
    size: int,
    max_objects: int,
    rotate: bool = False,
    patterns: Sequence[str] = PATTERNS,
) -> Tuple[np.ndarray, List[dict]]:
    """One RGB image (H, W, 3) uint8 and its labelme shapes."""
    return compose_image(
        rng,
        size,
        max_objects,
        lambda rng: random_attributes(rng, size, patterns),
        lambda rng, attrs: random_shape(rng, attrs, size, rotate),
        lambda canvas, mask, attrs, shape: paint(canvas, mask, shape),
    )


def compose_image(
    rng: np.random.Generator,
    size: int,
    max_objects: int,
    sample: Callable,
    place: Callable,
    draw: Callable,
    min_visible: float = MIN_VISIBLE,
) -> Tuple[np.ndarray, List[dict]]:
    """Place up to ``max_objects`` shapes, paint them, add noise.

    Args:
        rng (np.random.Generator): The image's random numbers.
        size (int): Image width and height.
        max_objects (int): Most shapes.
        sample (Callable): ``sample(rng)``, the attributes of one shape.
        place (Callable): ``place(rng, attrs)``, a labelme shape at a random
            place, or None if it cannot fit (the shape is left out).
        draw (Callable): ``draw(canvas, mask, attrs, shape)`` paints it.
        min_visible (float): Visible fraction every shape keeps.

    Returns:
        tuple: The RGB image (H, W, 3) uint8 and its labelme shapes.
    """
    placed, shapes, masks = [], [], []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        attrs = sample(rng)
        for _attempt in range(30):
            shape = place(rng, attrs)
            if shape is None:
                break
            mask = rasterize(shape, size)
            if layout_ok(masks + [mask], min_visible):
                placed.append(attrs)
                shapes.append(shape)
                masks.append(mask)
                break
    canvas = np.empty((size, size, 3), dtype=np.float64)
    canvas[:] = BACKGROUND
    for attrs, shape, mask in zip(placed, shapes, masks):
        draw(canvas, mask, attrs, shape)
    canvas += rng.normal(0, 3, canvas.shape)
    image = canvas.clip(0, 255).round().astype(np.uint8)
    return image, visible_shapes(shapes, masks, size)


def visible_shapes(
    shapes: List[dict], masks: List[np.ndarray], size: int
) -> List[dict]:
    """The labelme shapes of the visible parts, the bottom one first:
    occluded shapes become polygons of what stays visible (split parts
    joined by ``group_id``)."""
    out_shapes = []
    above = np.zeros((size, size), dtype=bool)
    for index in reversed(range(len(shapes))):
        shape, mask = shapes[index], masks[index]
        visible = mask & ~above
        above |= mask
        if visible.sum() == mask.sum():
            out_shapes.append(shape)
            continue
        polygons = mask_polygons(visible)
        for poly in polygons:
            out_shapes.append(
                dict(
                    shape,
                    points=np.reshape(poly, (-1, 2)).tolist(),
                    shape_type='polygon',
                    group_id=index if len(polygons) > 1 else None,
                )
            )
    return out_shapes[::-1]


# --- Held-out families -----------------------------------------------------
# Each family changes what the attributes are and how the scene looks; its
# images come from ``make_family_image`` with its own instance sampler.

#: More colours, for the nuisance colours and the long-tailed ``color``.
PALETTE = dict(
    COLORS,
    purple=(140, 60, 190),
    orange=(240, 130, 30),
    cyan=(40, 190, 200),
    brown=(120, 80, 40),
)
#: Corners of each category (0: an ellipse, drawn with 32 corners).
SIDES = dict(circle=0, triangle=3, square=4, pentagon=5, hexagon=6, octagon=8)
ASPECTS = dict(even=1.0, wide=2.2, tall=1 / 2.2)
CLUTTER_SIZES = dict(small=(150, 300), medium=(500, 800), large=(1100, 1600))
STRIPE_PERIODS = dict(none=0, coarse=8, fine=4)
LONGTAIL_PATTERNS = dict(
    striped=0.35, dotted=0.12, checkered=0.04, hatched=0.015, outlined=0.006
)


def _choice(rng: np.random.Generator, values: Sequence, p=None):
    return values[int(rng.choice(len(values), p=p))]


def _nuisance_color(rng: np.random.Generator) -> tuple:
    return PALETTE[_choice(rng, list(PALETTE))]


def geometry_instance(rng: np.random.Generator, size: int) -> dict:
    """Size by the area of the whole shape (under heavier occlusion), aspect
    and orientation; colour is noise."""
    category = _choice(rng, ('circle', 'triangle', 'square'))
    size_name = _choice(rng, list(SIZES))
    aspect = _choice(rng, list(ASPECTS))
    orientation = _choice(rng, ('level', 'tilted'))
    angle = rng.uniform(20, 35) * rng.choice((-1, 1))
    labels = dict(size=size_name, aspect=aspect, orientation=orientation)
    if category == 'circle' and aspect == 'even':
        del labels['orientation']  # a turned circle looks the same
    return dict(
        category=category,
        area=rng.uniform(*SIZES[size_name]) * (size / 128) ** 2,
        aspect=ASPECTS[aspect],
        angle=angle if orientation == 'tilted' else 0.0,
        rgb=_nuisance_color(rng),
        labels=labels,
    )


def texture_instance(rng: np.random.Generator, size: int) -> dict:
    """Stripe frequency and direction, drawn in the shape's own colour
    (colour is noise)."""
    stripes = _choice(rng, list(STRIPE_PERIODS))
    direction = _choice(rng, ('horizontal', 'vertical', 'diagonal'))
    labels = dict(stripes=stripes)
    if stripes != 'none':
        labels['direction'] = direction
    return dict(
        category=_choice(rng, ('circle', 'triangle', 'square')),
        area=rng.uniform(900, 2600) * (size / 128) ** 2,
        rgb=_nuisance_color(rng),
        stripes=(STRIPE_PERIODS[stripes], direction),
        labels=labels,
    )


def clutter_instance(rng: np.random.Generator, size: int) -> dict:
    """Colour and size of up to 10 small, overlapping shapes."""
    color = _choice(rng, list(COLORS))
    size_name = _choice(rng, list(CLUTTER_SIZES))
    return dict(
        category=_choice(rng, ('circle', 'triangle', 'square')),
        area=rng.uniform(*CLUTTER_SIZES[size_name]) * (size / 128) ** 2,
        rgb=COLORS[color],
        labels=dict(color=color, size=size_name),
    )


PARTIAL_GROUPS = [
    dict(name='color', values=list(COLORS), multi_label=False),
    dict(
        name='size',
        values=['small', 'large'],
        multi_label=False,
        categories=['circle', 'triangle', 'pentagon'],
    ),
    dict(
        name='pattern',
        values=['striped', 'dotted'],
        multi_label=True,
        categories=['square', 'hexagon', 'octagon'],
    ),
    dict(
        name='border',
        values=['plain', 'outlined'],
        multi_label=False,
        categories=['circle', 'square', 'hexagon'],
    ),
]


def partial_instance(rng: np.random.Generator, size: int) -> dict:
    """Six categories; each group is labelled (and drawn) only on the
    categories it applies to."""
    category = _choice(rng, list(SIDES))
    color = _choice(rng, list(COLORS))
    labels, patterns = dict(color=color), []
    area = rng.uniform(450, 2600)
    for group in PARTIAL_GROUPS[1:]:
        if category not in group['categories']:
            continue
        if group['name'] == 'size':
            labels['size'] = _choice(rng, ('small', 'large'))
            area = rng.uniform(
                *((450, 1000) if labels['size'] == 'small' else (1800, 2600))
            )
        elif group['name'] == 'pattern':
            labels['pattern'] = [
                p for p in group['values'] if rng.random() < PATTERN_PROB
            ]
            patterns += labels['pattern']
        else:
            labels['border'] = _choice(rng, group['values'])
            patterns += ['outlined'] * (labels['border'] == 'outlined')
    return dict(
        category=category,
        area=area * (size / 128) ** 2,
        rgb=COLORS[color],
        patterns=patterns,
        labels=labels,
    )


def longtail_instance(rng: np.random.Generator, size: int) -> dict:
    """Long-tailed values, as Fashionpedia's: colour frequencies fall as
    1 / rank^1.6, patterns from 35 % to 0.6 %."""
    ranks = np.arange(1, len(PALETTE) + 1) ** -1.6
    color = _choice(rng, list(PALETTE), p=ranks / ranks.sum())
    patterns = [p for p, q in LONGTAIL_PATTERNS.items() if rng.random() < q]
    return dict(
        category=_choice(rng, ('circle', 'triangle', 'square')),
        area=rng.uniform(700, 2600) * (size / 128) ** 2,
        rgb=PALETTE[color],
        patterns=patterns,
        labels=dict(color=color, pattern=patterns),
    )


class Family(NamedTuple):
    """A held-out family: its groups, its scenes and its instances."""

    attribute_groups: List[dict]
    instance: Callable[[np.random.Generator, int], dict]
    max_objects: int = 4
    min_visible: float = MIN_VISIBLE
    categories: Sequence[str] = CATEGORIES


def _groups(**groups) -> List[dict]:
    """``name=values`` (a tuple: single-label, a list: multi-label)."""
    return [
        dict(name=n, values=list(v), multi_label=isinstance(v, list))
        for n, v in groups.items()
    ]


FAMILIES = dict(
    geometry=Family(
        _groups(
            size=tuple(SIZES),
            aspect=tuple(ASPECTS),
            orientation=('level', 'tilted'),
        ),
        geometry_instance,
        min_visible=0.55,
    ),
    texture=Family(
        _groups(
            stripes=tuple(STRIPE_PERIODS),
            direction=('horizontal', 'vertical', 'diagonal'),
        ),
        texture_instance,
    ),
    clutter=Family(
        _groups(color=tuple(COLORS), size=tuple(CLUTTER_SIZES)),
        clutter_instance,
        max_objects=10,
        min_visible=0.5,
    ),
    partial=Family(PARTIAL_GROUPS, partial_instance, categories=tuple(SIDES)),
    longtail=Family(
        _groups(color=tuple(PALETTE), pattern=list(LONGTAIL_PATTERNS)),
        longtail_instance,
    ),
)


def family_spec(name: str) -> dict:
    """The labelme spec (categories, attribute groups) of a family."""
    family = FAMILIES[name]
    return dict(
        categories=list(family.categories),
        attribute_groups=family.attribute_groups,
    )


def family_shape(
    rng: np.random.Generator, inst: dict, size: int
) -> Optional[dict]:
    """A polygon of the instance's category, area, aspect and angle at a
    random place, labelled ``category|group=value|group=v1,v2``; None when
    it does not fit in the image (a large stretched triangle)."""
    sides = SIDES[inst['category']]
    corners = sides or 32
    # unit radius polygon, a corner up (odd corners) or a side down (even:
    # squares are axis-aligned); its area
    start = -np.pi / 2 + (np.pi / corners if corners % 2 == 0 else 0)
    turns = 2 * np.pi * np.arange(corners) / corners + start
    unit = np.stack([np.cos(turns), np.sin(turns)], axis=1)
    unit_area = 0.5 * corners * np.sin(2 * np.pi / corners)
    aspect = inst.get('aspect', 1.0)
    points = unit * math.sqrt(inst['area'] / unit_area)
    points *= [math.sqrt(aspect), 1 / math.sqrt(aspect)]
    theta = math.radians(inst.get('angle', 0.0))
    rotation = np.array(
        [
            [math.cos(theta), -math.sin(theta)],
            [math.sin(theta), math.cos(theta)],
        ]
    )
    points = points @ rotation.T
    low, high = points.min(0), points.max(0)
    if (high - low > size - 4).any():
        return None
    centre = rng.uniform(2 - low, size - 2 - high)
    label = inst['category'] + ''.join(
        f'|{g}={",".join(v) if isinstance(v, list) else v}'
        for g, v in inst['labels'].items()
    )
    return dict(
        label=label,
        points=[
            [round(float(x), 2), round(float(y), 2)]
            for x, y in points + centre
        ],
        group_id=None,
        description='',
        shape_type='polygon',
        flags={},
    )


def paint_instance(canvas: np.ndarray, mask: np.ndarray, inst: dict) -> None:
    """Paint a family's instance: colour, patterns, stripes."""
    color = np.array(inst['rgb'], dtype=np.float64)
    canvas[mask] = color
    draw_patterns(canvas, mask, color, inst.get('patterns', ()))
    period, direction = inst.get('stripes', (0, None))
    if period:
        h, w = mask.shape
        yy, xx = np.mgrid[:h, :w]
        coord = dict(horizontal=yy, vertical=xx, diagonal=xx + yy)[direction]
        canvas[mask & (coord % period < period // 2)] = (
            0.45 * color + 0.55 * 255
        )


def make_family_image(
    rng: np.random.Generator, family: Family, size: int
) -> Tuple[np.ndarray, List[dict]]:
    """One RGB image (H, W, 3) uint8 of a family and its labelme shapes."""
    return compose_image(
        rng,
        size,
        family.max_objects,
        lambda rng: family.instance(rng, size),
        lambda rng, inst: family_shape(rng, inst, size),
        lambda canvas, mask, inst, shape: paint_instance(canvas, mask, inst),
        family.min_visible,
    )


def write_split(
    out_dir: str, split: str, split_id: int, num: int, args: argparse.Namespace
) -> None:
    """Write the images and labelme files of one split."""
    split_dir = osp.join(out_dir, split)
    os.makedirs(split_dir, exist_ok=True)
    for i in tqdm(
        range(num),
        desc=f'shapes {split}',
        unit='img',
        disable=args.no_progress,
    ):
        if args.family == 'shapes':
            rng = np.random.default_rng([args.seed, split_id, i])
            image, shapes = make_image(
                rng,
                args.image_size,
                args.max_objects,
                args.rotate,
                () if args.flat else PATTERNS,
            )
        else:
            # each family draws its own images from the same seed
            family_id = 1 + list(FAMILIES).index(args.family)
            rng = np.random.default_rng([args.seed, split_id, i, family_id])
            image, shapes = make_family_image(
                rng, FAMILIES[args.family], args.image_size
            )
        name = f'{i:06d}'
        cv2.imwrite(osp.join(split_dir, f'{name}.png'), image[..., ::-1])
        labelme = dict(
            version='5.4.1',
            flags={},
            shapes=shapes,
            imagePath=f'{name}.png',
            imageData=None,
            imageHeight=args.image_size,
            imageWidth=args.image_size,
        )
        with open(osp.join(split_dir, f'{name}.json'), 'w') as f:
            json.dump(labelme, f, indent=1)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    out_dir = args.out_dir
    if osp.isdir(out_dir) and os.listdir(out_dir):
        if not args.force:
            print(
                f'error: {out_dir} is not empty; pass --force to replace '
                'the output of an earlier run',
                file=sys.stderr,
            )
            return 1
        for name in OWNED:
            path = osp.join(out_dir, name)
            if osp.isdir(path):
                shutil.rmtree(path)
            elif osp.exists(path):
                os.remove(path)
    os.makedirs(osp.join(out_dir, 'annotations'), exist_ok=True)
    if args.family != 'shapes':
        spec_dict = family_spec(args.family)
    else:
        spec_dict = FLAT_SPEC if args.flat else SPEC
    with open(osp.join(out_dir, 'labelme_spec.json'), 'w') as f:
        json.dump(spec_dict, f, indent=1)
    spec = LabelmeSpec.from_dict(spec_dict)
    for split_id, (split, num) in enumerate(
        zip(SPLITS, (args.num_train, args.num_val))
    ):
        write_split(out_dir, split, split_id, num, args)
        result = convert_labelme_dir(
            osp.join(out_dir, split), spec, progress=not args.no_progress
        )
        if result.defects:
            print('\n'.join(result.defects), file=sys.stderr)
            return 1
        ann_file = osp.join(out_dir, 'annotations', f'{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(result.coco, f)
        print(
            f'{ann_file}: {len(result.coco["images"])} images, '
            f'{len(result.coco["annotations"])} instances'
        )
    return 0


if __name__ == '__main__':
    sys.exit(main())
