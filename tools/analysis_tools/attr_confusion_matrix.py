"""Attribute confusion matrices of a tested model.

Over the detections that the evaluation matches with a ground truth of their
category at IoU ``attr_iou_thr`` (the pairs that attribute accuracy and F1
score), it draws, per single-label group, the true value x predicted value
matrix (raw counts beside the row-normalised percentages) with an
``unknown`` row (ground truth that does not know the group) and a ``none``
column (no value predicted), and per multi-label group the precision,
recall and F1 of every value. The counts are also written to
``attr_confusion.json``.

Examples:
    # config + the --out pickle of tools/test.py
    python tools/analysis_tools/attr_confusion_matrix.py CONFIG preds.pkl \\
        work_dirs/analysis
    # ground truth + results JSON (AttrCocoMetric's outfile_prefix)
    python tools/analysis_tools/attr_confusion_matrix.py GT.json \\
        work_dirs/demo/results.segm.json work_dirs/analysis
"""

import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mmmultilabel.evaluation import (  # noqa: E402
    attr_confusion_matrix,
    attr_value_scores,
    matched_attributes,
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
        description='Attribute confusion matrices (single-label groups) '
        'and per-value precision / recall / F1 (multi-label groups) over '
        'the detections matched at attr_iou_thr'
    )
    add_input_arguments(parser, 'where the pictures are written')
    parser.add_argument(
        '--attr-iou-thr',
        type=float,
        help="IoU of the matched pairs (default: the config evaluator's, "
        'else 0.5)',
    )
    parser.add_argument(
        '--score-thr',
        type=float,
        default=0.0,
        help='leave out matched detections scored below this (default 0: '
        'exactly the pairs of the attribute accuracy)',
    )
    parser.add_argument(
        '--groups', nargs='+', help='attribute groups (default: all)'
    )
    parser.add_argument(
        '--color-theme', default='plasma', help='matplotlib colour map'
    )
    return parser.parse_args(argv)


def plot_confusion_matrix(
    counts: np.ndarray,
    rows: Sequence[str],
    cols: Sequence[str],
    title: str,
    color_theme: str = 'plasma',
) -> plt.Figure:
    """Raw counts (left) and row-normalised percentages (right).

    Args:
        counts (np.ndarray): (V + 1, V + 1) true x predicted counts.
        rows (Sequence[str]): V + 1 row labels (true values).
        cols (Sequence[str]): V + 1 column labels (predicted values).
        title (str): Figure title.
        color_theme (str): Colour map.

    Returns:
        plt.Figure: The figure.
    """
    sums = counts.sum(1, keepdims=True)
    with np.errstate(invalid='ignore', divide='ignore'):
        percent = np.where(sums > 0, 100.0 * counts / sums, np.nan)
    n = len(rows)
    side = 0.55 * n + 1.6
    fig, axes = plt.subplots(1, 2, figsize=(2 * side + 1.0, side), dpi=100)
    for ax, data, fmt, sub in (
        (axes[0], counts.astype(float), '{:.0f}', 'counts'),
        (axes[1], percent, '{:.0f}%', '% of true value'),
    ):
        shown = np.ma.masked_invalid(data)
        ax.imshow(shown, cmap=color_theme, vmin=0)
        ax.set_title(sub, fontsize=10)
        ax.set_xticks(np.arange(n), labels=cols)
        ax.set_yticks(np.arange(n), labels=rows)
        ax.tick_params(axis='x', top=True, labeltop=True, bottom=False)
        ax.tick_params(axis='x', labelbottom=False)
        plt.setp(
            ax.get_xticklabels(),
            rotation=40,
            ha='left',
            rotation_mode='anchor',
        )
        ax.set_xlabel('predicted')
        ax.set_ylabel('true')
        peak = np.nanmax(data) if np.isfinite(data).any() else 1.0
        for i in range(n):
            for j in range(n):
                value = data[i, j]
                text = '-' if np.isnan(value) else fmt.format(value)
                # dark text on bright cells and on empty (white) rows
                bright = np.isnan(value) or value > 0.6 * peak
                ax.text(
                    j,
                    i,
                    text,
                    ha='center',
                    va='center',
                    fontsize=8,
                    color='black' if bright else 'white',
                )
        # a line between the values and the unknown / none row and column
        ax.axhline(n - 1.5, color='white', linewidth=1.5)
        ax.axvline(n - 1.5, color='white', linewidth=1.5)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_value_scores(scores: Dict[str, np.ndarray], title: str) -> plt.Figure:
    """Precision, recall and F1 bars of every value of a group.

    Args:
        scores (dict): From ``attr_value_scores``.
        title (str): Figure title.

    Returns:
        plt.Figure: The figure.
    """
    values = scores['values']
    x = np.arange(len(values))
    width = 0.27
    fig, ax = plt.subplots(
        figsize=(max(4.5, 1.1 * len(values) + 1.5), 3.2), dpi=100
    )
    for n, key in enumerate(('precision', 'recall', 'f1')):
        heights = np.nan_to_num(scores[key], nan=0.0)
        bars = ax.bar(x + (n - 1) * width, heights, width, label=key)
        for bar, value in zip(bars, scores[key]):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                bar.get_height() + 0.01,
                '-' if np.isnan(value) else f'{value:.2f}',
                ha='center',
                va='bottom',
                fontsize=7,
            )
    ax.set_xticks(
        x, labels=[f'{v}\n(n={s})' for v, s in zip(values, scores['support'])]
    )
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.set_ylabel('over matched pairs')
    ax.legend(loc='upper center', ncol=3, fontsize=8)
    ax.set_title(title, fontsize=11)
    fig.tight_layout()
    return fig


def _rounded(x: float) -> Optional[float]:
    """JSON value of a score: None for NaN (undefined)."""
    return None if np.isnan(x) else round(float(x), 4)


def main(argv: Optional[List[str]] = None) -> dict:
    """Write the pictures and ``attr_confusion.json``; return the data."""
    args = parse_args(argv)
    try:
        inputs = load_analysis_inputs(
            args.gt, args.results, args.iou_type, cfg_options=args.cfg_options
        )
        ev = evaluate_analysis_inputs(inputs, args.attr_iou_thr)
    except (InputError, ValueError) as err:
        sys.exit(f'error: {err}')
    groups = args.groups or ev.spec.names
    unknown = [g for g in groups if g not in ev.spec.names]
    if unknown:
        sys.exit(
            f'error: attribute groups {unknown} are not declared; groups '
            f'are {ev.spec.names}'
        )
    matched = matched_attributes(ev)
    if args.score_thr > 0:
        matched = matched.select(matched.scores >= args.score_thr)
    os.makedirs(args.save_dir, exist_ok=True)
    out: dict = dict(
        attr_iou_thr=ev.attr_iou_thr,
        score_thr=args.score_thr,
        num_matched=len(matched),
        groups={},
    )
    for name in groups:
        group = ev.spec.group(name)
        scores = attr_value_scores(ev, matched, name)
        entry = dict(multi_label=group.multi_label, values=scores['values'])
        for key in ('tp', 'fp', 'fn', 'support'):
            entry[key] = scores[key].tolist()
        for key in ('precision', 'recall', 'f1'):
            entry[key] = [_rounded(x) for x in scores[key]]
        if group.multi_label:
            fig = plot_value_scores(
                scores,
                f'{name} (multi-label), {len(matched)} matched '
                f'({inputs.iou_type} IoU >= {ev.attr_iou_thr:g})',
            )
            path = osp.join(args.save_dir, f'value_scores_{name}.png')
        else:
            cm = attr_confusion_matrix(ev, matched, name)
            counts = cm['counts']
            known = counts[:-1].sum()
            acc = np.trace(counts[:-1, :-1]) / known if known else np.nan
            entry.update(
                counts=counts.tolist(),
                rows=cm['rows'],
                cols=cm['cols'],
                accuracy=_rounded(acc),
            )
            fig = plot_confusion_matrix(
                counts,
                cm['rows'],
                cm['cols'],
                f'{name}: {int(counts.sum())} matched detections '
                f'({inputs.iou_type} IoU >= {ev.attr_iou_thr:g}), '
                f'accuracy {acc:.3f}',
                args.color_theme,
            )
            path = osp.join(args.save_dir, f'confusion_{name}.png')
        fig.savefig(path)
        plt.close(fig)
        print(f'{path}')
        out['groups'][name] = entry
    with open(osp.join(args.save_dir, 'attr_confusion.json'), 'w') as f:
        json.dump(out, f, indent=1)
    return out


if __name__ == '__main__':
    main(sys.argv[1:])
