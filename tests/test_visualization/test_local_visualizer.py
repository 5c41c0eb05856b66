"""AttrDetLocalVisualizer: attribute labels, side by side, fit in the image."""

import numpy as np
import pytest
import torch
from mmdet.registry import VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData

from mmmultilabel.utils import AttributeSpec
from mmmultilabel.visualization import (
    AttrDetLocalVisualizer,
    format_attributes,
)

CLASSES = ('circle', 'square')
GROUPS = [
    dict(name='color', values=['red', 'green']),
    dict(name='size', values=['small', 'large']),
    dict(name='pattern', values=['striped', 'dotted'], multi_label=True),
]
SPEC = AttributeSpec(GROUPS)
META = dict(
    classes=CLASSES,
    palette=[(220, 20, 60), (0, 128, 0)],
    attribute_groups=GROUPS,
)
# Columns: color | size | pattern(striped, dotted).
ROW = [0, 0, 1, 1]


def _visualizer(**kwargs) -> AttrDetLocalVisualizer:
    # Visualizers are named singletons: one name per instance.
    _visualizer.count = getattr(_visualizer, 'count', 0) + 1
    vis = VISUALIZERS.build(
        dict(
            type='AttrDetLocalVisualizer',
            name=f'attr_vis_{_visualizer.count}',
            **kwargs,
        )
    )
    vis.dataset_meta = META
    return vis


def _instances(h, w, boxes, labels, attr_labels=None, scores=None):
    masks = np.zeros((len(boxes), h, w), dtype=bool)
    for m, (x1, y1, x2, y2) in zip(masks, boxes):
        m[y1:y2, x1:x2] = True
    insts = InstanceData(
        labels=torch.tensor(labels),
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        masks=torch.from_numpy(masks),
    )
    if attr_labels is not None:
        insts.attr_labels = torch.tensor(attr_labels)
    if scores is not None:
        insts.scores = torch.tensor(scores)
    return insts


def _drawn_labels(vis):
    """Texts drawn and their boxes (x1, y1, x2, y2), origin bottom left."""
    renderer = vis.fig_save_canvas.get_renderer()
    out = []
    for text in vis.ax_save.texts:
        box = text.get_bbox_patch().get_window_extent(renderer)
        out.append((text.get_text(), (box.x0, box.y0, box.x1, box.y1)))
    return out


def test_format_attributes():
    assert format_attributes(SPEC, ROW) == [
        'color=red',
        'size=small',
        'pattern=striped,dotted',
    ]
    unknown = [-1, 1, 0, 0]
    assert format_attributes(SPEC, unknown) == [
        'color=?',
        'size=large',
        'pattern=-',
    ]
    assert format_attributes(SPEC, unknown, unknown_text=None) == [
        'size=large',
        'pattern=-',
    ]
    assert format_attributes(SPEC, [1, -1, -1, -1]) == [
        'color=green',
        'size=?',
        'pattern=?',
    ]
    # a group that does not apply to the category is left out
    spec = AttributeSpec(
        [
            dict(g, categories=['car']) if g['name'] == 'size' else g
            for g in GROUPS
        ]
    )
    assert format_attributes(spec, unknown, category='car') == [
        'color=?',
        'size=large',
        'pattern=-',
    ]
    assert format_attributes(spec, unknown, category='bus') == [
        'color=?',
        'pattern=-',
    ]
    scores = [0.2, 0.7, 0.9, 0.05, 0.8, 0.6]
    assert format_attributes(SPEC, ROW, scores) == [
        'color=red 0.20',
        'size=small 0.90',
        'pattern=striped 0.80,dotted 0.60',
    ]
    with pytest.raises(ValueError, match='3 columns.*need 4'):
        format_attributes(SPEC, [0, 0, 1])


def test_label_text_on_a_large_image():
    vis = _visualizer()
    img = np.zeros((600, 800, 3), np.uint8)
    insts = _instances(
        600, 800, [[100, 100, 400, 300]], [0], [ROW], scores=[0.934]
    )
    vis._draw_instances(img, insts, CLASSES, META['palette'])
    ((text, _),) = _drawn_labels(vis)
    assert text == 'circle 0.93 | color=red | size=small | ' + (
        'pattern=striped,dotted'
    )


def test_labels_stay_inside_a_small_image():
    vis = _visualizer()
    h, w = 120, 160
    img = np.zeros((h, w, 3), np.uint8)
    # One box at the bottom right corner, one at the top left.
    insts = _instances(
        h, w, [[130, 95, 160, 120], [0, 0, 30, 20]], [0, 1], [ROW, ROW]
    )
    vis._draw_instances(img, insts, CLASSES, META['palette'])
    assert vis.get_image().shape == (h, w, 3)
    labels = _drawn_labels(vis)
    assert len(labels) == 2
    for text, (x0, y0, x1, y1) in labels:
        assert '\n' in text, 'too wide for one line: broken at " | "'
        assert text.replace('\n', ' | ').startswith(('circle', 'square'))
        assert -1 <= x0 and x1 <= w + 1 and -1 <= y0 and y1 <= h + 1, text
    # The two labels do not cover each other where there is room.
    (_, a), (_, b) = labels
    assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def test_label_taller_than_the_image_starts_at_the_top():
    vis = _visualizer()
    h, w = 30, 100
    insts = _instances(h, w, [[60, 10, 100, 30]], [0], [ROW])
    vis._draw_instances(np.zeros((h, w, 3), np.uint8), insts, CLASSES, None)
    ((text, (x0, _, x1, y1)),) = _drawn_labels(vis)
    assert text.startswith('circle') and text.count('\n') >= 2
    # Display coordinates: y1 is the top edge of the label.
    assert -1 <= x0 and x1 <= w + 1 and h - 1 <= y1 <= h + 1


def test_font_grows_with_the_image():
    sizes = []
    for h, w in ((128, 128), (1200, 1600)):
        vis = _visualizer()
        img = np.zeros((h, w, 3), np.uint8)
        box = [w // 4, h // 4, w // 2, h // 2]
        insts = _instances(h, w, [box], [0], [ROW])
        vis._draw_instances(img, insts, CLASSES, META['palette'])
        sizes.append(vis.ax_save.texts[0].get_fontsize())
    assert sizes[1] > 3 * sizes[0]


def test_ground_truth_and_prediction_side_by_side(tmp_path):
    vis = _visualizer(show_attr_scores=True, min_draw_size=0)
    h, w = 50, 70
    img = np.random.RandomState(0).randint(0, 255, (h, w, 3), np.uint8)
    sample = DetDataSample()
    gt = _instances(h, w, [[5, 5, 40, 30]], [0], [ROW])
    gt.masks = BitmapMasks(gt.masks.numpy(), h, w)
    sample.gt_instances = gt
    pred = _instances(
        h, w, [[5, 5, 40, 30], [30, 20, 60, 45]], [0, 1], [ROW, ROW]
    )
    pred.scores = torch.tensor([0.9, 0.1])
    pred.attr_scores = torch.rand(2, SPEC.num_values)
    sample.pred_instances = pred
    out_file = tmp_path / 'vis.png'
    vis.add_datasample('x', img, sample, out_file=str(out_file))
    assert vis.get_image().shape == (h, 2 * w, 3)
    assert out_file.is_file()


def test_small_images_are_drawn_enlarged_with_their_instances():
    vis = _visualizer()  # min_draw_size 512: 64 px -> factor 8
    h, w = 64, 96
    img = np.full((h, w, 3), 128, np.uint8)
    sample = DetDataSample()
    gt = _instances(h, w, [[8, 8, 24, 24]], [0], [ROW])
    gt.masks = BitmapMasks(gt.masks.numpy(), h, w)
    sample.gt_instances = gt

    vis.add_datasample('x', img, sample, draw_pred=False)

    drawn = vis.get_image()
    assert drawn.shape == (8 * h, 8 * w, 3)
    # The mask is painted where the instance is, 8 times larger ...
    painted = (drawn != 128).any(-1)
    assert painted[8 * 14 : 8 * 23, 8 * 9 : 8 * 23].mean() > 0.8
    # ... and nothing far from it.
    assert not painted[8 * 40 :, 8 * 40 :].any()
    # The caller's sample keeps its size.
    assert sample.gt_instances.masks.to_ndarray().shape == (1, h, w)


def test_samples_with_maps_keep_their_size():
    """Semantic maps are drawn at the image size: no enlargement."""
    vis = _visualizer()
    h, w = 64, 96
    img = np.full((h, w, 3), 128, np.uint8)
    sample = DetDataSample()
    sample.gt_instances = _instances(h, w, [[8, 8, 24, 24]], [0], [ROW])
    sample.gt_sem_seg = PixelData(sem_seg=torch.zeros(1, h, w).long())

    vis.add_datasample('x', img, sample, draw_pred=False)

    assert vis.get_image().shape == (h, w, 3)


def test_samples_without_attributes_still_draw():
    vis = _visualizer()
    h, w = 40, 40
    img = np.zeros((h, w, 3), np.uint8)
    # A stock mmdet prediction: no attr_labels / attr_scores.
    stock = _instances(h, w, [[2, 2, 20, 20]], [1], scores=[0.5])
    vis._draw_instances(img, stock, CLASSES, META['palette'])
    assert [t for t, _ in _drawn_labels(vis)] == ['square 0.50']
    # Boxes as an mmdet box type; labels without boxes or masks.
    boxed = InstanceData(
        labels=torch.tensor([0]),
        bboxes=HorizontalBoxes(torch.tensor([[1.0, 2.0, 30.0, 35.0]])),
    )
    vis._draw_instances(img, boxed, CLASSES, META['palette'])
    assert [t for t, _ in _drawn_labels(vis)] == ['circle']
    vis._draw_instances(
        img, InstanceData(labels=torch.tensor([1])), CLASSES, None
    )
    assert [t for t, _ in _drawn_labels(vis)] == ['square']
    # No attribute groups in dataset_meta: attribute rows are ignored.
    vis.dataset_meta = dict(classes=CLASSES)
    insts = _instances(h, w, [[2, 2, 20, 20]], [1], [ROW])
    vis._draw_instances(img, insts, CLASSES, None)
    assert [t for t, _ in _drawn_labels(vis)] == ['square']


def test_masks_without_boxes_and_empty_masks():
    vis = _visualizer()
    h, w = 48, 64
    img = np.zeros((h, w, 3), np.uint8)
    insts = _instances(h, w, [[10, 10, 30, 30], [0, 0, 0, 0]], [0, 1])
    insts.bboxes = torch.zeros(2, 4)  # mask-only model: dummy boxes
    vis._draw_instances(img, insts, CLASSES, META['palette'])
    assert len(_drawn_labels(vis)) == 2
    empty = _instances(h, w, [], [])
    empty.labels = torch.zeros(0, dtype=torch.long)
    empty.bboxes = torch.zeros(0, 4)
    empty.masks = torch.zeros(0, h, w, dtype=torch.bool)
    drawn = vis._draw_instances(img, empty, CLASSES, META['palette'])
    np.testing.assert_array_equal(drawn, img)
