"""Training curves from MMEngine's ``scalars.json``, several runs overlaid.

MMEngine's ``LoggerHook`` writes one JSON line per logged training
iteration (``{"loss": .., "lr": .., "iter": 50, "step": 50}``, plus
``"epoch"`` in epoch-based runs, where ``iter`` counts within the epoch
and ``step`` over the whole run) and one per validation (``{"coco/segm_mAP":
.., "step": S}``). ``S`` is the epoch by default (``log_metric_by_epoch``),
which is 0 throughout an iteration-based run, and the iteration with
``log_metric_by_epoch=False``. So on the iteration axis a validation is
placed at its ``step`` when that is not before the last logged training
iteration, else at that iteration; on the epoch axis at the epoch of the
last logged training line.

Any key can be plotted: losses (``loss``, ``loss_attr_color``,
``d2.loss_mask``), ``lr``, and evaluation metrics by their full name
(``coco/segm_color_acc``) or the part after the prefix (``segm_color_acc``).
A key may be a shell pattern (``'d?.loss_attr_*'``, ``'*_f1'``); each
``--keys`` entry is one panel. mmdet's ``analyze_logs.py plot_curve`` reads
the same files but is epoch-based and treats only keys containing ``mAP``
as evaluation metrics.

A run is a ``scalars.json`` or a work dir: all its ``*/vis_data/
scalars.json`` are read in time-stamp order (a resumed run continues).

Examples:
    python tools/analysis_tools/plot_curves.py work_dirs/demo \\
        --keys loss 'loss_attr_*' segm_mAP '*_acc' '*_f1' --out curves.png
    python tools/analysis_tools/plot_curves.py work_dirs/a work_dirs/b \\
        --keys segm_mAP --legend baseline ours --out compare.png
"""

import argparse
import fnmatch
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

#: Bookkeeping fields of a scalars.json line, never plotted as curves.
POSITION_KEYS = ('step', 'iter', 'epoch')
DEFAULT_KEYS = ('loss', '*_mAP', '*_acc', '*_f1')


class LogError(ValueError):
    """A log that cannot be read or plotted as asked."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Plot any scalar of MMEngine's scalars.json, "
        'iteration- or epoch-based, several runs overlaid'
    )
    parser.add_argument(
        'runs',
        nargs='+',
        help='scalars.json files or work dirs (their */vis_data/'
        'scalars.json, in time-stamp order)',
    )
    parser.add_argument(
        '--keys',
        nargs='+',
        help='keys or shell patterns, one panel each; evaluation metrics '
        'also match without their "coco/" prefix (default: loss and every '
        '*_mAP, *_acc, *_f1 metric)',
    )
    parser.add_argument(
        '--x',
        choices=['auto', 'iter', 'epoch'],
        default='auto',
        help='x axis (default: epoch for epoch-based runs, else iter)',
    )
    parser.add_argument('--legend', nargs='+', help='a name per run')
    parser.add_argument('--title', help='figure title')
    parser.add_argument(
        '--smooth',
        type=int,
        default=1,
        help='moving average over this many training points (default 1)',
    )
    parser.add_argument(
        '--out', required=True, help='output picture (.png, .pdf, .svg)'
    )
    return parser.parse_args(argv)


def find_logs(run: str) -> List[str]:
    """The scalars.json files of a run, oldest first."""
    if osp.isfile(run):
        return [run]
    if not osp.isdir(run):
        raise LogError(f'{run}: no such file or directory')
    logs = sorted(glob.glob(osp.join(run, '*', 'vis_data', 'scalars.json')))
    if not logs:
        raise LogError(
            f'{run}: no */vis_data/scalars.json (is it the work dir of a '
            "run with MMEngine's LoggerHook?)"
        )
    return logs


def run_name(run: str) -> str:
    """Legend name of a run: its work dir."""
    path = osp.abspath(run)
    if osp.isfile(path):
        parts = path.split(os.sep)
        # WORK_DIR/TIMESTAMP/vis_data/scalars.json
        if len(parts) >= 4 and parts[-2] == 'vis_data':
            return parts[-4]
        return osp.splitext(parts[-1])[0]
    return osp.basename(path.rstrip(os.sep))


def load_records(paths: Sequence[str]) -> List[dict]:
    """All lines of the files, in order; each with its position.

    Every record gets ``_train`` (a training line: it has ``iter``),
    ``_iter`` and ``_epoch`` (its place on either axis, ``None`` where
    unknown), following the rules in the module doc.

    Raises:
        LogError: for a line that is not a JSON object with ``step``,
            naming file and line.
    """
    records = []
    last_iter, last_epoch = 0, None
    iters_per_epoch: Dict[int, int] = {}
    for path in paths:
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as err:
                    raise LogError(
                        f'{path}:{lineno}: not JSON ({err.msg}, column '
                        f'{err.colno})'
                    ) from None
                if not isinstance(rec, dict) or 'step' not in rec:
                    raise LogError(
                        f'{path}:{lineno}: expected a JSON object with '
                        f'"step" as LoggerHook writes, got {line[:80]!r}'
                    )
                train = 'iter' in rec
                rec['_train'] = train
                if train:
                    last_iter = rec['step']
                    rec['_iter'] = rec['step']
                    if 'epoch' in rec:
                        last_epoch = rec['epoch']
                        iters_per_epoch[last_epoch] = max(
                            iters_per_epoch.get(last_epoch, 0), rec['iter']
                        )
                    rec['_epoch'] = rec.get('epoch')
                else:
                    step = rec['step']
                    rec['_iter'] = step if step >= last_iter else last_iter
                    rec['_epoch'] = last_epoch
                records.append(rec)
    # fractional epochs of training lines: epoch - 1 + iter / iters, with
    # the most iterations logged in an epoch as its length
    total = max(iters_per_epoch.values(), default=1)
    for rec in records:
        if rec['_train'] and rec['_epoch'] is not None:
            rec['_epoch'] = rec['_epoch'] - 1 + rec['iter'] / total
    return records


def matching_keys(records: Sequence[dict], pattern: str) -> List[str]:
    """Keys of the records that ``pattern`` matches, in first-seen order.

    A key matches if the pattern matches it whole or its part after the
    last ``/`` (``segm_mAP`` matches ``coco/segm_mAP``).
    """
    seen = []
    for rec in records:
        for key in rec:
            if key.startswith('_') or key in POSITION_KEYS or key in seen:
                continue
            if fnmatch.fnmatchcase(key, pattern) or fnmatch.fnmatchcase(
                key.rsplit('/', 1)[-1], pattern
            ):
                seen.append(key)
    return seen


def curve(
    records: Sequence[dict], key: str, x: str = 'iter', smooth: int = 1
) -> Tuple[np.ndarray, np.ndarray]:
    """Points ``(xs, ys)`` of one key on the ``iter`` or ``epoch`` axis.

    Args:
        records (Sequence[dict]): From :func:`load_records`.
        key (str): An exact key.
        x (str): ``'iter'`` or ``'epoch'``.
        smooth (int): Moving average window over the points (1: none).

    Returns:
        tuple[np.ndarray, np.ndarray]: (N,) positions and (N,) values.
    """
    pts = [
        (rec[f'_{x}'], rec[key])
        for rec in records
        if key in rec and rec[f'_{x}'] is not None
    ]
    xs = np.array([p[0] for p in pts], dtype=np.float64)
    ys = np.array([p[1] for p in pts], dtype=np.float64)
    if smooth > 1 and len(ys) >= smooth:
        kernel = np.ones(smooth) / smooth
        ys = np.convolve(ys, kernel, mode='valid')
        xs = xs[smooth - 1 :]
    return xs, ys


def plot_runs(
    runs: Dict[str, List[dict]],
    patterns: Sequence[str],
    x: str,
    title: Optional[str] = None,
    smooth: int = 1,
    required: bool = True,
) -> plt.Figure:
    """One panel per pattern, every run and matching key overlaid.

    Args:
        runs (dict): ``{name: records}``.
        patterns (Sequence[str]): Keys or patterns.
        x (str): ``'iter'`` or ``'epoch'``.
        title (str, optional): Figure title.
        smooth (int): Moving average of training curves.
        required (bool): Raise for a pattern that no run has; otherwise
            leave it out.

    Returns:
        plt.Figure: The figure.

    Raises:
        LogError: for a pattern without key (when ``required``) or when
            nothing is left to plot.
    """
    panels = []
    for pattern in patterns:
        keys = {
            name: matching_keys(recs, pattern) for name, recs in runs.items()
        }
        if not any(keys.values()):
            if required:
                available = sorted(
                    {
                        k
                        for recs in runs.values()
                        for rec in recs
                        for k in rec
                        if not k.startswith('_') and k not in POSITION_KEYS
                    }
                )
                raise LogError(
                    f'no key matches "{pattern}" in any run; keys are '
                    f'{available}'
                )
            continue
        panels.append((pattern, keys))
    if not panels:
        raise LogError(f'none of the keys {list(patterns)} is in the logs')
    cols = min(len(panels), 3)
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(4.2 * cols, 2.9 * rows + 0.3),
        dpi=90,
        squeeze=False,
        sharex=True,
    )
    colors = plt.get_cmap('tab10')
    styles = ['-', '--', ':', '-.']
    for ax, (pattern, keys) in zip(axes.flat, panels):
        for r, (name, recs) in enumerate(runs.items()):
            for k, key in enumerate(keys[name]):
                train = any(rec['_train'] for rec in recs if key in rec)
                xs, ys = curve(recs, key, x, smooth if train else 1)
                label = key if len(runs) == 1 else f'{name}: {key}'
                ax.plot(
                    xs,
                    ys,
                    color=colors((r if len(runs) > 1 else k) % 10),
                    linestyle=styles[k % 4] if len(runs) > 1 else '-',
                    linewidth=1.0 if train else 1.4,
                    marker=None if train else 'o',
                    markersize=3,
                    label=label,
                )
        ax.set_title(pattern, fontsize=9)
        ax.set_xlabel(x)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    for ax in axes.flat[len(panels) :]:
        ax.axis('off')
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def main(argv: Optional[List[str]] = None) -> Dict[str, List[dict]]:
    """Plot and save; return the records of every run."""
    args = parse_args(argv)
    if args.legend is not None and len(args.legend) != len(args.runs):
        sys.exit(
            f'error: {len(args.legend)} --legend names for '
            f'{len(args.runs)} runs'
        )
    names = args.legend or [run_name(r) for r in args.runs]
    if len(set(names)) < len(names):
        names = [f'{i + 1}:{n}' for i, n in enumerate(names)]
    try:
        runs = {
            n: load_records(find_logs(r)) for n, r in zip(names, args.runs)
        }
        x = args.x
        if x == 'auto':
            by_epoch = all(
                any(rec['_train'] and 'epoch' in rec for rec in recs)
                for recs in runs.values()
            )
            x = 'epoch' if by_epoch else 'iter'
        elif x == 'epoch':
            iter_based = [
                n
                for n, recs in runs.items()
                if not any('epoch' in rec for rec in recs if rec['_train'])
            ]
            if iter_based:
                raise LogError(
                    f'runs {iter_based} are iteration-based (no "epoch" in '
                    'their training lines): use --x iter'
                )
        fig = plot_runs(
            runs,
            args.keys or DEFAULT_KEYS,
            x,
            args.title,
            args.smooth,
            required=args.keys is not None,
        )
    except LogError as err:
        sys.exit(f'error: {err}')
    out_dir = osp.dirname(osp.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(args.out)
    plt.close(fig)
    print(f'curves saved to {args.out}')
    return runs


if __name__ == '__main__':
    main(sys.argv[1:])
