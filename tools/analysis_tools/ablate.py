"""Train variants of a config over several seeds and compare them.

Each variant is the config with some options changed (``KEY=VALUE`` as in
``--cfg-options``, or another config file); ``--stock`` adds mmdet's own
Mask2Former with exactly the same settings (see
:func:`stock_config.stock_config`). Every (variant, seed) pair is one
``tools/train.py`` run in ``WORK_DIR/<variant>/seed<S>`` with
``randomness.seed=S``; runs that already reached the last iteration are not
trained again, and unfinished ones resume from their last checkpoint, so a
study can be extended (more seeds, more iterations, more variants) by
running the command again.

The tool then reads every run's validation metrics (MMEngine's
``scalars.json``) and prints, per variant and validation step, the mean and
the standard deviation over seeds of each metric (``segm_mAP``, every
attribute accuracy and F1 by default), with the difference to the reference
variant (``stock`` when given, else the config), taken per seed and averaged
over the seeds both have. It writes the table as Markdown (``table.md``),
every number per seed (``summary.json``) and a plot (``ablation.png``: per
metric, the mean of each variant with its range over seeds).

Examples:
    # the config against stock and two variants, 3 seeds, 2 runs at a time
    python tools/analysis_tools/ablate.py CONFIG --work-dir work_dirs/abl \\
        --stock --seeds 0 1 2 --jobs 2 \\
        --variant mlp model.panoptic_head.attr_head_layers=3 \\
        --variant no-attr-cost \\
            model.train_cfg.assigner.match_costs.3.weight=0 \\
            model.train_cfg.assigner.match_costs.4.weight=0
    # a variant given as a config file (it may inherit CONFIG)
    python tools/analysis_tools/ablate.py CONFIG --work-dir work_dirs/abl \\
        --variant warmup configs/my_warmup_variant.py
    # only summarise runs that exist
    python tools/analysis_tools/ablate.py CONFIG --work-dir work_dirs/abl \\
        --stock --seeds 0 1 2 --summary-only
"""

import argparse
import ast
import fnmatch
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from plot_curves import LogError, find_logs, load_records  # noqa: E402

TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))
TRAIN = osp.join(TOOLS, 'train.py')
BASE = 'config'
STOCK = 'stock'
#: Marker of a run that ended normally; it names the final checkpoint.
FINISHED = 'finished'
DEFAULT_KEYS = ('segm_mAP', 'segm_*_acc', 'segm_*_f1')


class AblationError(ValueError):
    """A study that cannot be run or summarised as asked."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Train variants of a config over seeds (optionally '
        "against mmdet's stock Mask2Former) and tabulate their validation "
        'metrics: mean and spread per variant'
    )
    parser.add_argument('config', help='the config every variant starts from')
    parser.add_argument(
        '--work-dir', required=True, help='where runs and results are written'
    )
    parser.add_argument(
        '--variant',
        nargs='+',
        action='append',
        default=[],
        metavar=('NAME', 'OPTION'),
        help='a variant: its name, then KEY=VALUE options (as '
        '--cfg-options; VALUE may be any Python literal, e.g. a list of '
        'dicts) and/or one config file to use instead of CONFIG; repeat '
        'for more variants. The config itself is always the variant '
        f'"{BASE}".',
    )
    parser.add_argument(
        '--stock',
        action='store_true',
        help="add mmdet's stock Mask2Former with the same settings as the "
        f'variant "{STOCK}" (the reference of the table)',
    )
    parser.add_argument(
        '--seeds',
        type=int,
        nargs='+',
        default=[0, 1, 2],
        help='values of randomness.seed (default: 0 1 2)',
    )
    parser.add_argument(
        '--max-iters',
        type=int,
        help="train_cfg.max_iters of every run (default: the config's); "
        'raising it later resumes the runs from their last checkpoint',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='options applied to every variant, stock included',
    )
    parser.add_argument(
        '--jobs',
        type=int,
        default=1,
        help='runs trained at the same time (default: 1); each gets '
        'cpu_count / jobs threads unless OMP_NUM_THREADS is set',
    )
    parser.add_argument(
        '--keys',
        nargs='+',
        default=list(DEFAULT_KEYS),
        help='metrics to tabulate: names or shell patterns of the metric '
        "names without their prefix (default: segm_mAP 'segm_*_acc' "
        "'segm_*_f1'); the first one is compared with the reference",
    )
    parser.add_argument(
        '--train',
        nargs='+',
        metavar='VARIANT',
        help='train only these variants (config, stock or the name of a '
        '--variant) and summarise every variant from the runs that exist, '
        'e.g. to add seeds to the finalists of a study',
    )
    parser.add_argument(
        '--summary-only',
        action='store_true',
        help='train nothing; summarise the runs that exist',
    )
    return parser.parse_args(argv)


def _literal_node(node: ast.AST):
    """The value of a literal node; ``dict(k=v)`` counts as a literal."""
    if isinstance(node, ast.Call):
        if (
            isinstance(node.func, ast.Name)
            and node.func.id == 'dict'
            and not node.args
            and all(kw.arg for kw in node.keywords)
        ):
            return {kw.arg: _literal_node(kw.value) for kw in node.keywords}
        raise ValueError('not a literal')
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal_node(e) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.Dict):
        return {
            _literal_node(k): _literal_node(v)
            for k, v in zip(node.keys, node.values)
        }
    return ast.literal_eval(node)


def parse_value(value: str):
    """A ``VALUE`` of ``KEY=VALUE``: a Python literal, else as mmengine's
    ``--cfg-options`` reads it.

    Unlike ``--cfg-options`` this also takes dicts (``dict(a=1)`` or
    ``{'a': 1}``), so that whole list items such as ``custom_hooks`` can be
    given.
    """
    from mmengine.config import DictAction

    try:
        parsed = _literal_node(ast.parse(value, mode='eval').body)
    except (ValueError, SyntaxError, TypeError):
        return DictAction._parse_iterable(value)
    if isinstance(parsed, tuple) and not value.lstrip().startswith('('):
        # a bare ``1,2`` is a list, as --cfg-options reads it
        return DictAction._parse_iterable(value)
    return parsed


def parse_variants(
    args: argparse.Namespace,
) -> Dict[str, dict]:
    """``{name: dict(config=path, options={key: value})}`` in order."""
    variants = {BASE: dict(config=args.config, options={})}
    if args.stock:
        variants[STOCK] = dict(config=args.config, options={}, stock=True)
    for spec in args.variant:
        name, items = spec[0], spec[1:]
        if '=' in name or name in variants or not name:
            raise AblationError(
                f'--variant {" ".join(spec)}: the first word is the '
                f'variant\'s name; it must be new and without "=" (taken: '
                f'{list(variants)})'
            )
        config, options = args.config, {}
        for item in items:
            if '=' in item:
                key, value = item.split('=', 1)
                options[key] = parse_value(value)
            elif item.endswith('.py'):
                if not osp.isfile(item):
                    raise AblationError(
                        f'--variant {name}: config file {item} not found'
                    )
                config = item
            else:
                raise AblationError(
                    f'--variant {name}: {item!r} is neither KEY=VALUE nor a '
                    'config file (.py)'
                )
        variants[name] = dict(config=config, options=options)
    return variants


def run_dir(work_dir: str, variant: str, seed: int) -> str:
    return osp.join(work_dir, variant, f'seed{seed}')


def build_config(variant: dict, args: argparse.Namespace, out_dir: str):
    """Write the variant's full config to ``out_dir``; return its path.

    Writing it (rather than passing options to ``train.py``) checks every
    option before any training starts and keeps the exact config of each
    variant next to its runs.
    """
    from mmengine.config import Config
    from stock_config import stock_config

    import mmmultilabel  # noqa: F401  (registers the modules)

    cfg = Config.fromfile(variant['config'])
    common = {}
    for item in args.cfg_options:
        if '=' not in item:
            raise AblationError(f'--cfg-options {item}: expected KEY=VALUE')
        key, value = item.split('=', 1)
        common[key] = parse_value(value)
    cfg.merge_from_dict(common)
    cfg.merge_from_dict(variant['options'])
    if args.max_iters is not None:
        cfg.train_cfg.max_iters = args.max_iters
    # validation metrics logged at their iteration, not at epoch 0
    cfg.default_hooks.logger.log_metric_by_epoch = False
    if variant.get('stock'):
        cfg = stock_config(cfg)
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, 'config.py')
    cfg.dump(path)
    return path


def final_checkpoint(cfg_path: str) -> str:
    """File name of the checkpoint a finished run leaves."""
    from mmengine.config import Config

    train_cfg = Config.fromfile(cfg_path).train_cfg
    if 'max_epochs' in train_cfg:
        return f'epoch_{train_cfg.max_epochs}.pth'
    return f'iter_{train_cfg.max_iters}.pth'


def finished(out: str, checkpoint: str) -> bool:
    """Whether the run in ``out`` ended after saving ``checkpoint``.

    The checkpoint alone does not say so: MMEngine saves it before the last
    validation.
    """
    marker = osp.join(out, FINISHED)
    if not osp.isfile(osp.join(out, checkpoint)) or not osp.isfile(marker):
        return False
    with open(marker) as f:
        return f.read().strip() == checkpoint


def train_one(
    cfg_path: str, out: str, seed: int, checkpoint: str, threads: int
) -> tuple:
    """Train (or resume) one run; return ``(out, returncode, seconds)``.

    A run that exits 0 gets the marker file :data:`FINISHED` naming its
    final ``checkpoint``.
    """
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', str(threads))
    env.setdefault('MKL_NUM_THREADS', env['OMP_NUM_THREADS'])
    cmd = [
        sys.executable,
        TRAIN,
        cfg_path,
        '--work-dir',
        out,
        '--resume',
        '--cfg-options',
        f'randomness.seed={seed}',
    ]
    start = time.time()
    with open(osp.join(out, 'train.log'), 'a') as log:
        proc = subprocess.run(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env
        )
    if proc.returncode == 0:
        with open(osp.join(out, FINISHED), 'w') as f:
            f.write(checkpoint + '\n')
    return out, proc.returncode, time.time() - start


def train_all(
    variants: Dict[str, dict], args: argparse.Namespace
) -> List[str]:
    """Train every unfinished run; return the logs of the failed ones."""
    from tqdm import tqdm

    unknown = sorted(set(args.train or ()) - set(variants))
    if unknown:
        raise AblationError(
            f'--train {" ".join(unknown)}: no such variant (the variants: '
            f'{list(variants)})'
        )
    configs = {
        name: build_config(variant, args, osp.join(args.work_dir, name))
        for name, variant in variants.items()
        if not args.train or name in args.train
    }
    # Seed by seed, so that a study stopped early compares every variant.
    todo = []
    for seed in args.seeds:
        for name, cfg_path in configs.items():
            out = run_dir(args.work_dir, name, seed)
            checkpoint = final_checkpoint(cfg_path)
            if not finished(out, checkpoint):
                os.makedirs(out, exist_ok=True)
                todo.append((cfg_path, out, seed, checkpoint))
    if not todo:
        return []
    jobs = max(1, args.jobs)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    failed = []
    with (
        ThreadPoolExecutor(jobs) as pool,
        tqdm(total=len(todo), desc='ablation runs', unit='run') as bar,
    ):
        futures = [pool.submit(train_one, *run, threads) for run in todo]
        for future in futures:
            out, code, seconds = future.result()
            bar.update()
            bar.write(
                f'{osp.relpath(out, args.work_dir)}: '
                f'{"done" if code == 0 else f"FAILED (exit {code})"} in '
                f'{seconds / 60:.1f} min'
            )
            if code != 0:
                failed.append(osp.join(out, 'train.log'))
    return failed


def validations(out: str) -> Dict[int, Dict[str, float]]:
    """``{iteration: {metric: value}}`` of one run's validations."""
    try:
        records = load_records(find_logs(out))
    except LogError:
        return {}
    result = {}
    for rec in records:
        if rec['_train']:
            continue
        # COCO-style metrics are -1 where nothing was measured: missing
        values = {
            k.rsplit('/', 1)[-1]: float(v)
            for k, v in rec.items()
            if not k.startswith('_') and k != 'step' and '/' in k and v >= 0
        }
        if values:
            result.setdefault(int(rec['_iter']), {}).update(values)
    return result


def collect(
    variants: Sequence[str], args: argparse.Namespace
) -> Dict[str, Dict[int, Dict[str, Dict[int, float]]]]:
    """``{variant: {iteration: {metric: {seed: value}}}}``."""
    data = {}
    for name in variants:
        per_iter: Dict[int, Dict[str, Dict[int, float]]] = {}
        for seed in args.seeds:
            out = run_dir(args.work_dir, name, seed)
            for it, values in validations(out).items():
                for key, value in values.items():
                    per_iter.setdefault(it, {}).setdefault(key, {})[seed] = (
                        value
                    )
        data[name] = per_iter
    return data


def select_keys(data: dict, patterns: Sequence[str]) -> List[str]:
    """Metric names matching the patterns, in pattern order."""
    names = []
    for per_iter in data.values():
        for values in per_iter.values():
            names += [k for k in values if k not in names]
    keys = []
    for pattern in patterns:
        keys += [
            k
            for k in names
            if fnmatch.fnmatchcase(k, pattern) and k not in keys
        ]
    return keys


def mean_std(values: Sequence[float]) -> tuple:
    """Mean and sample standard deviation (0 for one value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))


def table_rows(data: dict, keys: Sequence[str], reference: str) -> List[list]:
    """Rows ``[variant, iter, seeds, cell per key, delta]`` of the table.

    A cell is ``mean ± std`` (the value alone for one seed); ``delta``
    is the first key's difference to the reference variant at the same
    iteration and seed, averaged over the seeds both have (paired).
    """
    rows = []
    ref = data.get(reference, {})
    for name, per_iter in data.items():
        for it in sorted(per_iter):
            values = per_iter[it]
            seeds = max((len(values.get(k, {})) for k in keys), default=0)
            cells = []
            for key in keys:
                got = list(values.get(key, {}).values())
                if len(got) == 1:
                    cells.append(f'{got[0]:.3f}')
                elif got:
                    mean, std = mean_std(got)
                    cells.append(f'{mean:.3f} ± {std:.3f}')
                else:
                    cells.append('-')
            delta = '-'
            first = keys[0] if keys else None
            ref_values = ref.get(it, {}).get(first)
            common = sorted(
                set(values.get(first) or {}) & set(ref_values or {})
            )
            if name != reference and common:
                diffs = [values[first][s] - ref_values[s] for s in common]
                delta = f'{sum(diffs) / len(diffs):+.3f}'
            rows.append([name, it, seeds, *cells, delta])
    return rows


def markdown(rows: List[list], keys: Sequence[str], reference: str) -> str:
    head = ['variant', 'iter', 'seeds', *keys]
    head.append(f'Δ {keys[0]} vs {reference}' if keys else 'Δ')
    lines = [
        '| ' + ' | '.join(head) + ' |',
        '|' + '|'.join(' --- ' for _ in head) + '|',
    ]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def plot(data: dict, keys: Sequence[str], path: str) -> None:
    """One panel per metric: each variant's mean over seeds and its range."""
    cols = min(3, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False
    )
    # one colour per variant in every panel, even where it has no values
    cycle = plt.rcParams['axes.prop_cycle'].by_key()['color']
    colors = {name: cycle[i % len(cycle)] for i, name in enumerate(data)}
    for ax, key in zip(axes.flat, keys):
        for name, per_iter in data.items():
            its = [i for i in sorted(per_iter) if per_iter[i].get(key)]
            if not its:
                continue
            vals = [list(per_iter[i][key].values()) for i in its]
            means = [sum(v) / len(v) for v in vals]
            ax.plot(its, means, marker='o', label=name, color=colors[name])
            ax.fill_between(
                its,
                [min(v) for v in vals],
                [max(v) for v in vals],
                color=colors[name],
                alpha=0.15,
            )
        ax.set_title(key)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(keys) :]:
        ax.axis('off')
    axes.flat[0].legend(fontsize='small')
    fig.suptitle('mean over seeds, band: min-max')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        if not osp.isfile(args.config):
            raise AblationError(f'config file {args.config} not found')
        variants = parse_variants(args)
        failed = [] if args.summary_only else train_all(variants, args)
        data = collect(list(variants), args)
        keys = select_keys(data, args.keys)
        if not keys:
            raise AblationError(
                f'no validation metric matching {args.keys} in the runs '
                f'under {args.work_dir} (have they reached a validation?)'
            )
    except AblationError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    reference = STOCK if args.stock else BASE
    rows = table_rows(data, keys, reference)
    table = markdown(rows, keys, reference)
    print(table)
    with open(osp.join(args.work_dir, 'table.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.work_dir, 'summary.json'), 'w') as f:
        json.dump(
            dict(
                seeds=args.seeds,
                variants={
                    name: dict(config=v['config'], options=v['options'])
                    for name, v in variants.items()
                },
                metrics=data,
            ),
            f,
            indent=1,
        )
    plot(data, keys, osp.join(args.work_dir, 'ablation.png'))
    print(f'table, numbers per seed and plot in {args.work_dir}')
    if failed:
        print('failed runs (see their logs):', *failed, sep='\n  ')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
