"""Detection visualizer that writes the attributes of every instance."""

import math
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from mmdet.registry import VISUALIZERS
from mmdet.structures import DetDataSample
from mmdet.structures.mask import BitmapMasks, PolygonMasks, bitmap_to_polygon
from mmdet.visualization import DetLocalVisualizer, get_palette
from mmengine.structures import InstanceData

from mmmultilabel.utils import AttributeSpec

# Fields of a sample drawn as maps, at the size of the image.
_MAP_FIELDS = (
    'gt_sem_seg',
    'gt_panoptic_seg',
    'pred_sem_seg',
    'pred_panoptic_seg',
)
# A placed label: (x1, y1, x2, y2) in image pixels.
Rect = Tuple[float, float, float, float]

FONT_FAMILY = 'sans-serif'


def format_attributes(
    spec: AttributeSpec,
    attr_labels: Sequence[int],
    attr_scores: Optional[Sequence[float]] = None,
    unknown_text: Optional[str] = '?',
    empty_text: str = '-',
    category: Optional[str] = None,
) -> List[str]:
    """Texts ``group=value`` of one instance, one per attribute group.

    Args:
        spec (AttributeSpec): The attribute groups.
        attr_labels (Sequence[int]): Label row of width
            ``spec.num_label_columns`` (D), in the encoding of
            :class:`~mmmultilabel.utils.AttributeSpec`.
        attr_scores (Sequence[float], optional): Score row of width
            ``spec.num_values`` (S). When given, each value is followed by
            its probability, e.g. ``color=red 0.87``. Defaults to None.
        unknown_text (str, optional): Text of an unknown group
            (``color=?``); None leaves unknown groups out. Defaults to '?'.
        empty_text (str): Text of a known multi-label group with no value
            present. Defaults to '-'.
        category (str, optional): Class name of the instance: the groups
            that do not apply to it are left out. Defaults to None (all
            groups).

    Returns:
        list[str]: E.g. ``['color=red', 'size=?', 'pattern=striped,dotted']``.

    Raises:
        ValueError: if a row does not have the width of ``spec``.
    """
    row = [int(v) for v in attr_labels]
    if len(row) != spec.num_label_columns:
        raise ValueError(
            f'attr_labels has {len(row)} columns but the attribute groups '
            f'{spec.names} of dataset_meta["attribute_groups"] need '
            f'{spec.num_label_columns}; give the visualizer the '
            'dataset_meta of the data set the model was trained on'
        )
    scores = None
    if attr_scores is not None:
        scores = [float(s) for s in attr_scores]
        if len(scores) != spec.num_values:
            raise ValueError(
                f'attr_scores has {len(scores)} columns but the attribute '
                f'groups {spec.names} need {spec.num_values}'
            )
    texts = []
    for group, chosen in spec.chosen_indices(row):
        if category is not None and not group.applies_to(category):
            continue
        if chosen is None:
            if unknown_text is not None:
                texts.append(f'{group.name}={unknown_text}')
            continue
        probs = (
            None if scores is None else scores[spec.score_slices[group.name]]
        )
        words = [
            group.values[i]
            if probs is None
            else f'{group.values[i]} ' f'{probs[i]:.2f}'
            for i in chosen
        ]
        texts.append(f'{group.name}={",".join(words) or empty_text}')
    return texts


@VISUALIZERS.register_module()
class AttrDetLocalVisualizer(DetLocalVisualizer):
    """Draw instances with their category, score and attributes.

    Every instance gets its mask, its box and one label such as
    ``circle 0.93 | color=red | size=small | pattern=striped,dotted``. As in
    :class:`~mmdet.visualization.DetLocalVisualizer`, ground truth and
    prediction are drawn side by side (ground truth left) by
    :meth:`add_datasample`, which is what ``tools/test.py --show-dir`` and
    dataset browsing call when the config sets
    ``visualizer = dict(type='AttrDetLocalVisualizer', ...)``.

    Attributes come from ``instances.attr_labels`` (N, D) and, for
    predictions, ``instances.attr_scores`` (N, S), decoded with
    ``dataset_meta['attribute_groups']``. Instances without these fields
    (a stock mmdet model) or a ``dataset_meta`` without attribute groups are
    drawn without attribute text.

    Readability: :meth:`add_datasample` draws an image whose shorter side is
    below ``min_draw_size`` enlarged by the smallest integer factor that
    reaches it (nearest neighbour, so pixels stay sharp), its instances
    with it, so that labels do not hide small images. The font height then
    follows the drawn size
    (``font_scale`` x 2.2% of ``sqrt(H * W)``, at least ``min_font_px``
    pixels) and is reduced down to 70% for instances that cover little of the
    image. A label that is wider than the image breaks into lines at the
    ``|`` separators. It is placed at the top left inside the box, else
    above or below the box, at the first place that stays inside the image
    and does not cover an earlier label.

    Args:
        name (str): Name of the instance. Defaults to 'visualizer'.
        image (np.ndarray, optional): RGB image to draw, shape (H, W, 3).
            Defaults to None.
        vis_backends (list[dict], optional): Visual backend configs.
            Defaults to None.
        save_dir (str, optional): Save directory of the backends.
            Defaults to None.
        bbox_color (str | tuple[int], optional): Box colour; None uses the
            class palette. Defaults to None.
        text_color (str | tuple[int]): Label text colour (RGB).
            Defaults to (200, 200, 200).
        mask_color (str | tuple[int], optional): Mask colour; None uses the
            class palette. Defaults to None.
        line_width (int | float): Box line width. Defaults to 3.
        alpha (float): Opacity of boxes and mask outlines. Defaults to 0.8.
        font_scale (float): Multiplier of the font height. Defaults to 1.0.
        min_font_px (float): Smallest font height in pixels.
            Defaults to 9.
        show_attr_scores (bool): Write the probability after every predicted
            attribute value (``color=red 0.87``). Defaults to False.
        unknown_text (str, optional): Text of an unknown attribute group
            (``color=?``); None leaves unknown groups out. Defaults to '?'.
        empty_text (str): Text of a multi-label group known to have no
            value. Defaults to '-'.
        mask_alpha (float): Opacity of mask fills, lower than ``alpha`` so
            that the object's own colour (often an attribute) shows
            through. Defaults to 0.4.
        min_draw_size (int): Shorter side below which
            :meth:`add_datasample` enlarges the image; 0 never enlarges.
            Samples with semantic or panoptic maps are drawn at their own
            size. Defaults to 512.
    """

    def __init__(
        self,
        name: str = 'visualizer',
        image: Optional[np.ndarray] = None,
        vis_backends: Optional[List[Dict]] = None,
        save_dir: Optional[str] = None,
        bbox_color: Optional[Union[str, Tuple[int]]] = None,
        text_color: Union[str, Tuple[int]] = (200, 200, 200),
        mask_color: Optional[Union[str, Tuple[int]]] = None,
        line_width: Union[int, float] = 3,
        alpha: float = 0.8,
        font_scale: float = 1.0,
        min_font_px: float = 9,
        show_attr_scores: bool = False,
        unknown_text: Optional[str] = '?',
        empty_text: str = '-',
        mask_alpha: float = 0.4,
        min_draw_size: int = 512,
    ) -> None:
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            bbox_color=bbox_color,
            text_color=text_color,
            mask_color=mask_color,
            line_width=line_width,
            alpha=alpha,
        )
        self.font_scale = font_scale
        self.min_font_px = min_font_px
        self.show_attr_scores = show_attr_scores
        self.unknown_text = unknown_text
        self.empty_text = empty_text
        self.mask_alpha = mask_alpha
        self.min_draw_size = min_draw_size

    @property
    def attr_spec(self) -> AttributeSpec:
        """Attribute groups of ``dataset_meta`` (empty without them)."""
        meta = self.dataset_meta or {}
        return AttributeSpec(meta.get('attribute_groups'))

    def add_datasample(
        self,
        name: str,
        image: np.ndarray,
        data_sample: Optional[DetDataSample] = None,
        *args,
        **kwargs,
    ) -> None:
        """mmdet's ``add_datasample``, small images drawn enlarged.

        Args:
            name (str): The image identifier.
            image (np.ndarray): RGB image, shape (H, W, 3).
            data_sample (:obj:`DetDataSample`, optional): Ground truth and
                predictions, at the size of ``image``.
            *args, **kwargs: The other arguments of mmdet's
                ``DetLocalVisualizer.add_datasample`` (``draw_gt``,
                ``draw_pred``, ``show``, ``out_file``, ``pred_score_thr``,
                ...).
        """
        factor = 1
        if self.min_draw_size > 0 and not (
            data_sample is not None
            and any(key in data_sample for key in _MAP_FIELDS)
        ):
            factor = math.ceil(self.min_draw_size / min(image.shape[:2]))
        if factor > 1:
            # (H, W, 3) -> (factor * H, factor * W, 3)
            image = image.repeat(factor, axis=0).repeat(factor, axis=1)
            if data_sample is not None:
                data_sample = _enlarged(data_sample, factor)
        super().add_datasample(name, image, data_sample, *args, **kwargs)

    # ------------------------------------------------------------- drawing
    def _draw_instances(
        self,
        image: np.ndarray,
        instances: InstanceData,
        classes: Optional[Sequence[str]],
        palette: Optional[Union[list, str, tuple]],
    ) -> np.ndarray:
        """Draw masks, boxes and attribute labels of GT or prediction.

        Args:
            image (np.ndarray): RGB image, shape (H, W, 3).
            instances (:obj:`InstanceData`): ``labels`` (N, ) and any of
                ``bboxes`` (N, 4), ``masks`` (N, H, W), ``scores`` (N, ),
                ``attr_labels`` (N, D), ``attr_scores`` (N, S).
            classes (Sequence[str], optional): Class names.
            palette (list | str | tuple, optional): Class colours.

        Returns:
            np.ndarray: The drawn RGB image, shape (H, W, 3).
        """
        self.set_image(image)
        labels = _to_numpy(instances.labels).astype(np.int64)
        if len(labels) == 0:
            return self.get_image()
        num_colors = int(labels.max()) + 1
        bboxes = None
        if 'bboxes' in instances:
            bboxes = _to_numpy(instances.bboxes).astype(np.float64)
            # All-zero boxes are dummies (mask-only models such as SOLO).
            bboxes = bboxes if bboxes.sum() > 0 else None
        if bboxes is not None:
            bbox_palette = get_palette(
                palette if self.bbox_color is None else self.bbox_color,
                num_colors,
            )
            self.draw_bboxes(
                self._clip(bboxes.reshape(-1, 2, 2)).reshape(-1, 4),
                edge_colors=[bbox_palette[i] for i in labels],
                alpha=self.alpha,
                line_widths=self.line_width,
            )
        masks = None
        if 'masks' in instances:
            masks = _to_numpy(instances.masks).astype(bool)
            self._draw_masks(masks, labels, palette, num_colors)

        texts = self._label_texts(instances, labels, classes)
        anchors = self._anchors(bboxes, masks, len(labels))
        areas = np.array([(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in anchors])
        text_palette = get_palette(self.text_color, num_colors)
        placed: List[Rect] = []
        for i, parts in enumerate(texts):
            self._draw_label(
                parts,
                anchors[i],
                areas[i],
                text_palette[labels[i]],
                centered=bboxes is None,
                placed=placed,
            )
        return self.get_image()

    def _draw_masks(
        self,
        masks: np.ndarray,
        labels: np.ndarray,
        palette: Optional[Union[list, str, tuple]],
        num_colors: int,
    ) -> None:
        """Draw masks (N, H, W) filled with jittered class colours."""
        mask_palette = get_palette(
            palette if self.mask_color is None else self.mask_color,
            num_colors,
        )
        # Deterministic jitter: instances of one class stay distinguishable
        # and the same sample is drawn the same way every time.
        rng = np.random.RandomState(0)
        colors = []
        for label in labels:
            jitter = rng.rand(3)
            jitter = (jitter / np.linalg.norm(jitter) - 0.5) * 0.5 * 255
            color = np.clip(jitter + mask_palette[label], 0, 255)
            colors.append(tuple(int(c) for c in color))
        polygons = []
        for mask in masks:
            contours, _ = bitmap_to_polygon(mask)
            polygons.extend(self._clip(c) for c in contours)
        if polygons:
            self.draw_polygons(polygons, edge_colors='w', alpha=self.alpha)
        self.draw_binary_masks(masks, colors=colors, alphas=self.mask_alpha)

    def _label_texts(
        self,
        instances: InstanceData,
        labels: np.ndarray,
        classes: Optional[Sequence[str]],
    ) -> List[List[str]]:
        """Label of every instance as its parts: ``[head, attr, ...]``."""
        spec = self.attr_spec
        attr_labels = attr_scores = None
        if len(spec) and 'attr_labels' in instances:
            attr_labels = _to_numpy(instances.attr_labels)
            if self.show_attr_scores and 'attr_scores' in instances:
                attr_scores = _to_numpy(instances.attr_scores)
        scores = _to_numpy(instances.scores) if 'scores' in instances else None
        texts = []
        for i, label in enumerate(labels):
            name = None
            if classes is not None and label < len(classes):
                name = str(classes[label])
            if 'label_names' in instances:
                head = str(instances.label_names[i])
            else:
                head = name or f'class {label}'
            if scores is not None:
                head += f' {float(scores[i]):.2f}'
            parts = [head]
            if attr_labels is not None:
                parts += format_attributes(
                    spec,
                    attr_labels[i],
                    None if attr_scores is None else attr_scores[i],
                    unknown_text=self.unknown_text,
                    empty_text=self.empty_text,
                    category=name,
                )
            texts.append(parts)
        return texts

    def _anchors(
        self,
        bboxes: Optional[np.ndarray],
        masks: Optional[np.ndarray],
        num: int,
    ) -> np.ndarray:
        """Box (x1, y1, x2, y2) that each label is placed against, (N, 4).

        The instance box; without boxes, a small box around the centroid of
        the largest part of the mask; without either, the image corner.
        """
        if bboxes is not None:
            return bboxes
        if masks is None:  # labels only: labels at the top left
            return np.zeros((num, 4))
        anchors = []
        for mask in masks:
            _, _, stats, centroids = cv2.connectedComponentsWithStats(
                mask.astype(np.uint8), connectivity=8
            )
            if stats.shape[0] > 1:
                largest = int(np.argmax(stats[1:, -1])) + 1
                cx, cy = centroids[largest]
                half = np.sqrt(stats[largest, -1]) / 2
            else:  # empty mask
                cx, cy, half = 0.0, 0.0, 0.0
            anchors.append([cx - half, cy - half, cx + half, cy + half])
        return np.array(anchors, dtype=np.float64).reshape(-1, 4)

    def _font_px(self, area: float) -> float:
        """Font height in pixels for an instance of ``area`` pixels."""
        image_area = float(self.width * self.height)
        base = 0.022 * np.sqrt(image_area) * self.font_scale
        # 70% for instances under 0.5% of the image, 100% above 5%.
        rel = area / max(image_area, 1.0)
        scale = np.clip(0.7 + 0.3 * (rel - 0.005) / 0.045, 0.7, 1.0)
        return float(max(base * scale, self.min_font_px))

    def _text_size(self, text: str, font_px: float) -> float:
        """Width in pixels of one line of ``text``."""
        renderer = self.fig_save_canvas.get_renderer()
        width, _, _ = renderer.get_text_width_height_descent(
            text, self._font(font_px), ismath=False
        )
        return float(width)

    def _block_size(self, text: str, font_px: float) -> Tuple[float, float]:
        """Width and height in pixels of ``text`` as drawn (with lines)."""
        artist = Text(0, 0, text, fontproperties=self._font(font_px))
        artist.set_figure(self.fig_save)
        box = artist.get_window_extent(self.fig_save_canvas.get_renderer())
        return float(box.width), float(box.height)

    def _font(self, font_px: float) -> FontProperties:
        return FontProperties(family=FONT_FAMILY, size=self._px_to_pt(font_px))

    def _px_to_pt(self, px: float) -> float:
        return px * 72.0 / self.dpi

    def _layout(
        self, parts: List[str], font_px: float
    ) -> Tuple[str, float, float]:
        """Join ``parts`` with `` | `` into lines that fit the image width.

        A part goes on the current line if it fits, else on a new line; a
        part wider than the image is broken after its commas
        (``pattern=striped,`` / ``dotted``).

        Returns:
            tuple[str, float, float]: The text (lines joined by newlines)
            and its width and height in pixels, padding included.
        """
        pad = 0.25 * font_px
        max_width = self.width - 2 * pad
        sep = ' | '
        sep_width = self._text_size(sep, font_px)
        lines: List[str] = []
        widths: List[float] = []
        for part in parts:
            width = self._text_size(part, font_px)
            if lines and widths[-1] + sep_width + width <= max_width:
                lines[-1] += sep + part
                widths[-1] += sep_width + width
                continue
            if width <= max_width or ',' not in part:
                lines.append(part)
                widths.append(width)
                continue
            pieces = part.split(',')
            pieces = [p + ',' for p in pieces[:-1]] + pieces[-1:]
            lines.append('')
            widths.append(0.0)
            for piece in pieces:
                width = self._text_size(piece, font_px)
                if lines[-1] and widths[-1] + width > max_width:
                    lines.append('')
                    widths.append(0.0)
                lines[-1] += piece
                widths[-1] += width
        text = '\n'.join(lines)
        width, height = self._block_size(text, font_px)
        return text, width + 2 * pad, height + 2 * pad

    def _draw_label(
        self,
        parts: List[str],
        anchor: np.ndarray,
        area: float,
        color: tuple,
        centered: bool,
        placed: List[Rect],
    ) -> None:
        """Draw one label next to ``anchor`` (x1, y1, x2, y2), inside the
        image, avoiding the labels in ``placed`` (updated)."""
        font_px = self._font_px(area)
        text, width, height = self._layout(parts, font_px)
        # Shrink a label wider than the image, down to the smallest font.
        while width > self.width and font_px > self.min_font_px:
            font_px = max(font_px * 0.85, self.min_font_px)
            text, width, height = self._layout(parts, font_px)
        x1, y1, x2, y2 = (float(v) for v in anchor)
        if centered:
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            candidates = [(cx - width / 2, cy - height / 2)]
        else:
            lw = float(self.line_width)
            candidates = [(x1 + lw, y1 + lw), (x1, y1 - height), (x1, y2)]
        rects = [self._clamp(x, y, width, height) for x, y in candidates]
        rect = next(
            (r for r in rects if not any(_overlap(r, p) for p in placed)),
            rects[0],
        )
        placed.append(rect)
        pad = 0.25 * font_px
        self.draw_texts(
            text,
            np.array([rect[0] + pad, rect[1] + pad]),
            colors=color,
            font_sizes=self._px_to_pt(font_px),
            font_families=FONT_FAMILY,
            vertical_alignments='top',
            horizontal_alignments='left',
            bboxes=[
                dict(
                    facecolor='black',
                    alpha=0.8,
                    pad=self._px_to_pt(pad),
                    edgecolor='none',
                )
            ],
        )

    def _clip(self, points: np.ndarray) -> np.ndarray:
        """Points (..., 2) as (x, y) clipped to the pixels of the image.

        A box or contour that ends on the border (x2 == W) would otherwise
        be reported out of bounds by mmengine for every such instance.
        """
        upper = np.array([self.width - 1, self.height - 1], dtype=np.float64)
        return np.clip(points, 0, upper)

    def _clamp(self, x: float, y: float, width: float, height: float) -> Rect:
        """Shift a width x height rectangle at (x, y) into the image."""
        x = min(max(x, 0.0), max(self.width - width, 0.0))
        y = min(max(y, 0.0), max(self.height - height, 0.0))
        return x, y, x + width, y + height


def _enlarged(data_sample: DetDataSample, factor: int) -> DetDataSample:
    """A copy of a sample with instances ``factor`` times larger.

    Boxes are multiplied; masks (N, H, W) become (N, factor * H,
    factor * W), each pixel repeated.
    """
    # clone() copies the sample and each InstanceData, not the tensors: the
    # enlarged fields are set on the copies, the caller's stay as they are.
    out = data_sample.clone()
    for key in ('gt_instances', 'pred_instances', 'ignored_instances'):
        if key not in out:
            continue
        instances = out.get(key).clone()
        if 'bboxes' in instances:
            instances.bboxes = _to_numpy(instances.bboxes) * factor
        if 'masks' in instances:
            masks = _to_numpy(instances.masks)
            instances.masks = masks.repeat(factor, axis=1).repeat(
                factor, axis=2
            )
        out.set_field(instances, key)
    return out


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _to_numpy(data) -> np.ndarray:
    if isinstance(data, (PolygonMasks, BitmapMasks)):
        return data.to_ndarray()
    if hasattr(data, 'tensor'):  # mmdet box types, e.g. HorizontalBoxes
        data = data.tensor
    if isinstance(data, torch.Tensor):
        return data.detach().cpu().numpy()
    return np.asarray(data)
