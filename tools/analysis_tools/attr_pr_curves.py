"""Precision-recall curves and AP of every attribute value.

Every (category, attribute value) pair is a class of the object-attribute
AP (``pair_mAP``, PACO style; see ``docs/evaluation.md``). For each group
this draws ``pr_<group>.png``: one panel per category plus one for the mean
over categories, one curve per value, COCO's interpolated precision at the
101 recall thresholds at one IoU threshold. ``value_ap.png`` ranks every
value by its AP over categories and IoU thresholds (weakest first), and
``value_ap.json`` lists the numbers.

Examples:
    python tools/analysis_tools/attr_pr_curves.py CONFIG preds.pkl out/
    python tools/analysis_tools/attr_pr_curves.py GT.json \\
        work_dirs/demo/results.segm.json out/ --iou-thr 0.75
"""

import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mmmultilabel.evaluation import (  # noqa: E402
    pair_pr_curves,
    pair_value_ap,
)
from mmmultilabel.utils import InputError  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from analysis_inputs import (  # noqa: E402
    add_input_arguments,
    evaluate_analysis_inputs,
    load_analysis_inputs,
)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Precision-recall curves of every (category, attribute '
        'value) pair and the per-value AP, weakest first'
    )
    add_input_arguments(parser, 'where the pictures are written')
    parser.add_argument(
        '--iou-thr',
        type=float,
        default=0.5,
        help='IoU threshold of the curves (default 0.5; the AP bars '
        'average over all thresholds)',
    )
    parser.add_argument(
        '--groups', nargs='+', help='attribute groups (default: all)'
    )
    return parser.parse_args(argv)


def plot_pr_curves(curves: dict, title: str) -> plt.Figure:
    """One panel per category and one for the mean, a curve per value.

    Args:
        curves (dict): From ``pair_pr_curves``.
        title (str): Figure title.

    Returns:
        plt.Figure: The figure.
    """
    names = curves['categories'] + ['mean over categories']
    panels = list(curves['precision']) + [curves['mean']]  # each (V, R)
    cols = min(len(panels), 4)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(3.0 * cols, 2.7 * rows + 0.4),
        dpi=90,
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    colors = plt.get_cmap('tab10')
    recall = curves['recall']
    for ax, name, precision in zip(axes.flat, names, panels):
        for v, value in enumerate(curves['values']):
            if np.isnan(precision[v]).all():
                continue  # no ground truth with this pair
            ap = float(np.mean(precision[v]))
            ax.plot(
                recall,
                precision[v],
                color=colors(v % 10),
                linewidth=1.3,
                label=f'{value} {ap:.2f}',
            )
        ax.set_title(name, fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7, loc='lower left', title='value AP')
        else:
            ax.text(0.5, 0.5, 'no ground truth', ha='center', va='center')
    for ax in axes.flat[len(panels) :]:
        ax.axis('off')
    for ax in axes[-1]:
        ax.set_xlabel('recall')
    for ax in axes[:, 0]:
        ax.set_ylabel('precision')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_value_ap(ap: Dict[Tuple[str, str], float], title: str) -> plt.Figure:
    """Horizontal bars of the per-value AP, weakest at the top.

    Args:
        ap (dict): ``{(group, value): AP}`` from ``pair_value_ap``.
        title (str): Figure title.

    Returns:
        plt.Figure: The figure.
    """
    ranked = sorted(ap.items(), key=lambda kv: (kv[1], kv[0]))
    groups = list(dict.fromkeys(g for g, _ in ap))
    colors = plt.get_cmap('tab10')
    fig, ax = plt.subplots(figsize=(5.5, 0.28 * len(ranked) + 1.0), dpi=100)
    y = np.arange(len(ranked))
    ax.barh(
        y,
        [v for _, v in ranked],
        color=[colors(groups.index(g) % 10) for (g, _), _ in ranked],
    )
    for yi, (_, value) in zip(y, ranked):
        ax.text(value + 0.01, yi, f'{value:.3f}', va='center', fontsize=7)
    ax.set_yticks(y, labels=[f'{g}={v}' for (g, v), _ in ranked], fontsize=8)
    ax.invert_yaxis()  # weakest first
    ax.set_xlim(0, 1.1)
    ax.set_xlabel('AP over categories and IoU thresholds')
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def main(argv: Optional[List[str]] = None) -> dict:
    """Write the pictures and ``value_ap.json``; return the data."""
    args = parse_args(argv)
    try:
        inputs = load_analysis_inputs(
            args.gt, args.results, args.iou_type, cfg_options=args.cfg_options
        )
        ev = evaluate_analysis_inputs(inputs)
        groups = args.groups or ev.spec.names
        curves = {g: pair_pr_curves(ev, g, args.iou_thr) for g in groups}
    except (InputError, ValueError) as err:
        sys.exit(f'error: {err}')
    except KeyError as err:
        sys.exit(f'error: {err.args[0]}')
    os.makedirs(args.save_dir, exist_ok=True)
    for name, curve in curves.items():
        fig = plot_pr_curves(
            curve,
            f'{name}: precision-recall of (category, value) pairs, '
            f'{inputs.iou_type} IoU {args.iou_thr:g}',
        )
        path = osp.join(args.save_dir, f'pr_{name}.png')
        fig.savefig(path)
        plt.close(fig)
        print(path)
    ap = {k: v for k, v in pair_value_ap(ev).items() if k[0] in groups}
    fig = plot_value_ap(
        ap, f'object-attribute AP per value ({inputs.iou_type})'
    )
    path = osp.join(args.save_dir, 'value_ap.png')
    fig.savefig(path)
    plt.close(fig)
    print(path)
    out = dict(
        iou_type=inputs.iou_type,
        value_ap=[
            dict(group=g, value=v, ap=round(a, 4))
            for (g, v), a in sorted(ap.items(), key=lambda kv: kv[1])
        ],
        pr_curves={
            name: dict(
                iou_thr=args.iou_thr,
                recall=curve['recall'].round(4).tolist(),
                categories=curve['categories'],
                values=curve['values'],
                precision=[
                    [
                        None if np.isnan(p[0]) else np.round(p, 4).tolist()
                        for p in per_cat
                    ]
                    for per_cat in curve['precision']
                ],
            )
            for name, curve in curves.items()
        },
    )
    with open(osp.join(args.save_dir, 'value_ap.json'), 'w') as f:
        json.dump(out, f, indent=1)
    return out


if __name__ == '__main__':
    main(sys.argv[1:])
