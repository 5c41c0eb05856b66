"""Helpers of the data set tests: a labelme folder of five instances.

One 100x100 image holds five instances of five categories (``a`` .. ``e``),
so that every instance can be recognised by its label after any transform,
and each has its own attribute row (``EXPECTED_ROWS``).
"""

import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DATA = osp.join(REPO, 'tests', 'data')

CLASSES = ('a', 'b', 'c', 'd', 'e')
GROUPS = [
    dict(name='color', values=['red', 'green', 'blue'], multi_label=False),
    dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
]
# label -> encoded row [color, striped, dotted]
EXPECTED_ROWS = {
    0: [0, 0, 0],  # a: red, no pattern
    1: [1, 1, 0],  # b: green, striped
    2: [2, -1, -1],  # c: blue, pattern unknown
    3: [-1, 1, 1],  # d: colour unknown, striped and dotted
    4: [0, 0, 1],  # e: red, dotted
}


def _shape(label, points, kind='rectangle', flags=None):
    return dict(
        label=label,
        points=points,
        group_id=None,
        description='',
        shape_type=kind,
        flags=flags or {},
    )


FIVE_SHAPES = [
    # a: 10x10 box
    _shape('a|color=red|pattern=', [[5, 5], [15, 15]]),
    # b: 20x20 box, pattern from a flag
    _shape(
        'b|color=green',
        [[30, 5], [50, 25]],
        flags={'pattern=striped': True, 'pattern=dotted': False},
    ),
    # c: circle of radius 15
    _shape('c|color=blue', [[75, 20], [90, 20]], 'circle'),
    # d: 12x40 polygon
    _shape(
        'd|pattern=striped,dotted',
        [[10, 50], [22, 50], [22, 90], [10, 90]],
        'polygon',
    ),
    # e: 40x40 box, colour from a bare-value flag
    _shape('e|pattern=dotted', [[50, 50], [90, 90]], flags={'red': True}),
]


def run_tool(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run a tool of the repository as a user would."""
    return subprocess.run(
        [sys.executable, osp.join(REPO, script), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )


def write_labelme(folder: str, name: str, shapes: list, size=(100, 100)):
    """Write ``name.png`` (grey, H x W = ``size``) and ``name.json``."""
    h, w = size
    img = np.full((h, w, 3), 127, np.uint8)
    img[::7] = 200  # some texture so crops differ
    cv2.imwrite(osp.join(folder, f'{name}.png'), img)
    labelme = dict(
        version='5.4.1',
        flags={},
        shapes=shapes,
        imagePath=f'{name}.png',
        imageData=None,
        imageHeight=h,
        imageWidth=w,
    )
    with open(osp.join(folder, f'{name}.json'), 'w') as f:
        json.dump(labelme, f, indent=1)


def dataset_cfg(data: dict, pipeline: list, **kwargs) -> dict:
    """Config dict of an AttrCocoDataset on ``five_instances`` data."""
    return dict(
        type='AttrCocoDataset',
        ann_file=data['ann_file'],
        data_prefix=dict(img=data['img_dir']),
        pipeline=pipeline,
        **kwargs,
    )
