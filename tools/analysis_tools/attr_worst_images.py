"""The images where a tested model gets most attributes wrong.

An attribute error is a located object (a detection that the evaluation
matches with a ground truth of its category at IoU ``attr_iou_thr``) whose
predicted value differs from the known true value of a group: another value
or none for a single-label group, another set of values for a multi-label
group. All errors go to ``attribute_errors.csv`` (image, annotation id,
result id, category, group, true, predicted, detection score, probability
of the predicted value(s), multi-label F1). The ``--num`` images with most
errors are drawn under ``worst/``: ground truth left, prediction right
(detections scored at least ``--score-thr``, and every located one), each
wrong object boxed in red on both sides with a number that the caption
below explains (``#1 circle: size small -> large``).

Examples:
    python tools/analysis_tools/attr_worst_images.py CONFIG preds.pkl out/
    python tools/analysis_tools/attr_worst_images.py GT.json \\
        work_dirs/demo/results.segm.json out/ --img-dir data/shapes/val
"""

import argparse
import csv
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mmmultilabel.evaluation import (  # noqa: E402
    AttrCOCOeval,
    attribute_errors,
    worst_images,
)
from mmmultilabel.utils import InputError  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from analysis_inputs import (  # noqa: E402
    add_input_arguments,
    evaluate_analysis_inputs,
    load_analysis_inputs,
)

from mmmultilabel.visualization import AttrDetLocalVisualizer  # noqa: E402

CSV_FIELDS = (
    'image_id',
    'file_name',
    'annotation_id',
    'result_id',
    'category',
    'group',
    'true',
    'predicted',
    'score',
    'value_score',
    'f1',
)
HIGHLIGHT = (255, 30, 30)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='CSV of every wrong attribute of a located object, and '
        'the images with most of them drawn with the errors highlighted'
    )
    add_input_arguments(parser, 'where the CSV and panels go')
    parser.add_argument(
        '--num',
        type=int,
        default=10,
        help='number of images drawn (default 10; 0: only the CSV)',
    )
    parser.add_argument(
        '--img-dir',
        help='image folder when GT is an annotation file (file_name is '
        'relative to it)',
    )
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.5,
        help='also draw detections scored at least this (default 0.5); '
        'located detections are always drawn',
    )
    parser.add_argument(
        '--attr-iou-thr',
        type=float,
        help="IoU of the located objects (default: the config evaluator's, "
        'else 0.5)',
    )
    return parser.parse_args(argv)


def write_csv(rows: Sequence[dict], path: str) -> None:
    """Error rows of ``attribute_errors`` as CSV."""
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


def _instances(
    ev: AttrCOCOeval, coco, anns: Sequence[dict], with_masks: bool
) -> InstanceData:
    """Ground truths or results of one image as drawable instances."""
    cat_index = {c: k for k, c in enumerate(ev.params.catIds)}
    spec = ev.spec
    out = InstanceData()
    boxes = [[x, y, x + w, y + h] for x, y, w, h in (a['bbox'] for a in anns)]
    out.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    out.labels = torch.tensor(
        [cat_index[a['category_id']] for a in anns], dtype=torch.int64
    )
    out.attr_labels = torch.tensor(
        [spec.encode(a.get('attributes')) for a in anns], dtype=torch.int64
    ).reshape(-1, spec.num_label_columns)
    if anns and 'score' in anns[0]:
        out.scores = torch.tensor([a['score'] for a in anns])
    if with_masks:
        img = coco.imgs[anns[0]['image_id']] if anns else None
        masks = [coco.annToMask(a) for a in anns]
        shape = (len(anns), img['height'], img['width']) if img else (0, 1, 1)
        out.masks = torch.from_numpy(
            np.array(masks, dtype=bool).reshape(shape)
        )
    return out


def _probabilities(value_score: str) -> str:
    """``'  p=0.81'`` (``p=0.60;0.80`` for several values) or ''."""
    if not value_score:
        return ''
    probs = ';'.join(f'{float(p):.2f}' for p in value_score.split(';'))
    return f'  p={probs}'


def draw_panel(
    ev: AttrCOCOeval,
    visualizer: AttrDetLocalVisualizer,
    image: np.ndarray,
    img_id: int,
    errors: Sequence[dict],
    score_thr: float,
) -> np.ndarray:
    """Ground truth beside prediction, wrong objects boxed and explained.

    Args:
        ev (AttrCOCOeval): The evaluation.
        visualizer (AttrDetLocalVisualizer): With ``dataset_meta``.
        image (np.ndarray): RGB image (H, W, 3).
        img_id (int): Its id.
        errors (Sequence[dict]): Its rows of ``attribute_errors``.
        score_thr (float): Draw detections scored at least this.

    Returns:
        np.ndarray: RGB panel (factor * H + caption, 2 * factor * W, 3).
    """
    height, width = image.shape[:2]
    gts = [
        a
        for a in ev.cocoGt.imgToAnns.get(img_id, [])
        if a['category_id'] in ev.params.catIds and not a.get('iscrowd')
    ]
    wrong_dts = {r['result_id'] for r in errors}
    dts = [
        a
        for a in ev.cocoDt.imgToAnns.get(img_id, [])
        if a['score'] >= score_thr or a['id'] in wrong_dts
    ]
    masks = ev.params.iouType == 'segm'
    sample = DetDataSample()
    sample.gt_instances = _instances(ev, ev.cocoGt, gts, masks)
    sample.pred_instances = _instances(ev, ev.cocoDt, dts, masks)
    visualizer.add_datasample(
        str(img_id),
        image,
        sample,
        draw_gt=True,
        draw_pred=True,
        show=False,
        pred_score_thr=-1.0,
    )
    drawn = visualizer.get_image()
    factor = drawn.shape[0] / height
    half = factor * width

    # number the wrong objects, one number per (ground truth, detection)
    numbers: Dict[tuple, int] = {}
    lines = [
        'left: ground truth | right: prediction '
        f'(score >= {score_thr:g}, or located)'
    ]
    for row in errors:
        key = (row['annotation_id'], row['result_id'])
        numbers.setdefault(key, len(numbers) + 1)
        lines.append(
            f'#{numbers[key]} {row["category"]}: {row["group"]} '
            f'{row["true"]} -> {row["predicted"]}'
            + _probabilities(row['value_score'])
        )
    font_px = max(12.0, 0.028 * drawn.shape[1])
    band = int(font_px * (1.25 * len(lines) + 0.8))
    canvas = np.concatenate(
        [drawn, np.full((band, drawn.shape[1], 3), 255, np.uint8)], axis=0
    )
    visualizer.set_image(canvas)
    boxes, tags, tag_pos = [], [], []
    for (gt_id, dt_id), n in numbers.items():
        for ann, offset in (
            (ev.cocoGt.anns[gt_id], 0.0),
            (ev.cocoDt.anns[dt_id], half),
        ):
            x, y, w, h = (float(v) * factor for v in ann['bbox'])
            boxes.append([x + offset, y, x + w + offset, y + h])
            tags.append(f'#{n}')
            tag_pos.append([x + offset + w - 2, y + h - 2])
    if boxes:
        visualizer.draw_bboxes(
            np.array(boxes),
            edge_colors=HIGHLIGHT,
            line_widths=max(2.0, 0.5 * factor),
            alpha=1.0,
        )
        visualizer.draw_texts(
            tags,
            np.array(tag_pos),
            colors='white',
            font_sizes=font_px * 72.0 / visualizer.dpi,
            vertical_alignments='bottom',
            horizontal_alignments='right',
            bboxes=dict(facecolor='red', alpha=0.9, pad=1, edgecolor='none'),
        )
    visualizer.draw_texts(
        '\n'.join(lines),
        np.array([font_px * 0.5, drawn.shape[0] + font_px * 0.5]),
        colors='black',
        font_sizes=font_px * 72.0 / visualizer.dpi,
        vertical_alignments='top',
        horizontal_alignments='left',
    )
    return visualizer.get_image()


def main(argv: Optional[List[str]] = None) -> List[dict]:
    """Write the CSV and the panels; return the error rows."""
    args = parse_args(argv)
    try:
        inputs = load_analysis_inputs(
            args.gt,
            args.results,
            args.iou_type,
            img_dir=args.img_dir,
            cfg_options=args.cfg_options,
        )
        ev = evaluate_analysis_inputs(inputs, args.attr_iou_thr)
    except (InputError, ValueError) as err:
        sys.exit(f'error: {err}')
    errors = attribute_errors(ev)
    os.makedirs(args.save_dir, exist_ok=True)
    csv_path = osp.join(args.save_dir, 'attribute_errors.csv')
    write_csv(errors, csv_path)
    ranked = worst_images(errors, args.num)
    print(
        f'{len(errors)} attribute errors on '
        f'{len(worst_images(errors))} images: {csv_path}'
    )
    if not ranked:
        return errors
    missing = [i for i, _ in ranked if i not in inputs.img_paths]
    if missing:
        sys.exit(
            f'error: no image path for image ids {missing[:5]}: pass '
            '--img-dir with an annotation file, or give the config'
        )
    visualizer = AttrDetLocalVisualizer(min_draw_size=384)
    visualizer.dataset_meta = dict(
        classes=[ev.cocoGt.cats[c]['name'] for c in ev.params.catIds],
        attribute_groups=ev.spec.to_list(),
    )
    out_dir = osp.join(args.save_dir, 'worst')
    os.makedirs(out_dir, exist_ok=True)
    by_image: Dict[int, List[dict]] = {}
    for row in errors:
        by_image.setdefault(row['image_id'], []).append(row)
    for rank, (img_id, count) in enumerate(
        tqdm(ranked, desc='worst images', unit='img')
    ):
        path = inputs.img_paths[img_id]
        if not osp.isfile(path):
            sys.exit(f'error: image id {img_id}: file not found: {path}')
        image = mmcv.imread(path, channel_order='rgb')
        panel = draw_panel(
            ev, visualizer, image, img_id, by_image[img_id], args.score_thr
        )
        stem = osp.splitext(osp.basename(path))[0]
        mmcv.imwrite(
            panel[..., ::-1],
            osp.join(out_dir, f'{rank + 1:03d}_{stem}_{count}errors.png'),
        )
    print(f'{len(ranked)} panels in {out_dir}')
    return errors


if __name__ == '__main__':
    main(sys.argv[1:])
