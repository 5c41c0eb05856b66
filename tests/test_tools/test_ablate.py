"""ablate.py: variants over seeds, side by side with stock Mask2Former."""

import importlib.util
import json
import os.path as osp
import statistics
import sys

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from tools_utils import CPU_CONFIG, REPO, fast_options, run

import mmmultilabel  # noqa: F401

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'ablate.py')
sys.path.insert(0, osp.dirname(TOOL))
from stock_config import stock_config  # noqa: E402


def load_tool():
    spec = importlib.util.spec_from_file_location('ablate', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ABLATE = load_tool()


def test_stock_config_is_the_model_without_its_attribute_parts():
    cfg = Config.fromfile(CPU_CONFIG)
    cfg.val_evaluator.protocol = 'attr'
    # what CocoMetric cannot take is named, not dropped in silence
    with pytest.warns(
        UserWarning, match=r"CocoMetric takes no \['protocol'\]"
    ):
        stock = stock_config(cfg)
    assert stock.model.panoptic_head.type == 'Mask2FormerHead'
    assert stock.model.panoptic_fusion_head.type == 'MaskFormerFusionHead'
    assert [c['type'] for c in stock.model.train_cfg.assigner.match_costs] == [
        'ClassificationCost',
        'CrossEntropyLossCost',
        'DiceCost',
    ]
    assert stock.val_evaluator.type == 'CocoMetric'
    assert stock.val_evaluator.ann_file == cfg.val_evaluator.ann_file
    # the same data, schedule and runtime
    for key in ('train_dataloader', 'param_scheduler', 'optim_wrapper'):
        assert stock[key] == cfg[key], key
    torch.manual_seed(0)
    attr_keys = set(MODELS.build(cfg.model).state_dict())
    stock_keys = set(MODELS.build(stock.model).state_dict())
    # mmdet's own model has every parameter but the attribute classifiers
    # and the norm of the mask features they read
    assert stock_keys < attr_keys
    assert attr_keys - stock_keys == {
        f'panoptic_head.{name}.{p}'
        for name in ('attr_embed', 'attr_pool_norm')
        for p in ('weight', 'bias')
    }


@pytest.mark.parametrize(
    'text,value',
    [
        ('3', 3),
        ('0.5', 0.5),
        ('[1, 2]', [1, 2]),
        ('1,2', [1, 2]),
        ('abc', 'abc'),
        (
            "dict(type='X', a=[1, dict(b=2)])",
            {'type': 'X', 'a': [1, {'b': 2}]},
        ),
        ("[{'type': 'Y'}]", [{'type': 'Y'}]),
    ],
)
def test_option_values(text, value):
    assert ABLATE.parse_value(text) == value


def test_bad_variants_are_refused(tmp_path, capsys):
    base = ['ablate', CPU_CONFIG, '--work-dir', str(tmp_path)]
    for variant, message in [
        (['a=1'], 'name'),
        (['config'], 'must be new'),
        (['x', 'nothing.py'], 'not found'),
        (['x', 'word'], 'neither KEY=VALUE nor a config file'),
    ]:
        code = ABLATE.main(base[1:] + ['--variant', *variant])
        assert code == 1
        assert message in capsys.readouterr().err, variant


def test_summary_of_logged_validations(tmp_path):
    """Means, spreads and deltas by hand; -1 (not measured) is left out."""
    logs = {
        ('config', 0): [0.30, 0.90],
        ('config', 1): [0.34, -1],
        ('stock', 0): [0.40, None],
        ('stock', 1): [0.38, None],
    }
    for (variant, seed), (segm, acc) in logs.items():
        path = tmp_path / variant / f'seed{seed}' / '20260101_000000'
        path = path / 'vis_data' / 'scalars.json'
        path.parent.mkdir(parents=True)
        lines = [dict(loss=1.0, iter=50, step=50)]
        val = {'coco/segm_mAP': segm, 'step': 100}
        if acc is not None:
            val['coco/segm_color_acc'] = acc
        lines.append(val)
        path.write_text(''.join(json.dumps(x) + '\n' for x in lines))
    args = ABLATE.parse_args(
        [CPU_CONFIG, '--work-dir', str(tmp_path), '--seeds', '0', '1']
    )
    data = ABLATE.collect(['config', 'stock'], args)
    keys = ABLATE.select_keys(data, ['segm_mAP', '*_acc'])
    assert keys == ['segm_mAP', 'segm_color_acc']
    rows = ABLATE.table_rows(data, keys, 'stock')
    sd = statistics.stdev([0.30, 0.34])
    assert rows[0] == [
        'config',
        100,
        2,
        f'0.320 ± {sd:.3f}',
        '0.900',
        f'{0.32 - 0.39:+.3f}',
    ]
    assert rows[1][:4] == ['stock', 100, 2, f'0.390 ± {0.0141421:.3f}']
    assert rows[1][4:] == ['-', '-']


def test_study_end_to_end(shapes_root, tmp_path):
    """2 seeds of the config, stock and one variant, a few iterations."""
    work = tmp_path / 'study'
    cmd = [
        sys.executable,
        TOOL,
        CPU_CONFIG,
        '--work-dir',
        work,
        '--stock',
        '--seeds',
        '0',
        '1',
        '--jobs',
        '2',
        '--variant',
        'mlp',
        'model.panoptic_head.attr_head_layers=3',
        "custom_hooks=[dict(type='AttrGroupsCheckHook'), "
        "dict(type='AttrMatchCostWarmupHook', warmup_iters=2)]",
        '--cfg-options',
        *fast_options(shapes_root, max_iters=2, interval=2),
    ]
    proc = run(cmd, timeout=600)
    table = (work / 'table.md').read_text().splitlines()
    assert table[0].split(' | ')[:4] == [
        '| variant',
        'iter',
        'seeds',
        'segm_mAP',
    ]
    assert [row.split(' | ')[:3] for row in table[2:]] == [
        ['| config', '2', '2'],
        ['| stock', '2', '2'],
        ['| mlp', '2', '2'],
    ]
    # the numbers per seed are the runs' own logs
    summary = json.loads((work / 'summary.json').read_text())
    for variant in ('config', 'stock', 'mlp'):
        for seed in (0, 1):
            run_dir = work / variant / f'seed{seed}'
            (log,) = run_dir.glob('*/vis_data/scalars.json')
            val = [json.loads(x) for x in log.read_text().splitlines()][-1]
            got = summary['metrics'][variant]['2']['segm_mAP'][str(seed)]
            assert got == val['coco/segm_mAP']
            # the run was trained with its seed
            (dumped,) = log.parent.glob('*.py')
            assert Config.fromfile(str(dumped)).randomness.seed == seed
    stock_cfg = Config.fromfile(str(work / 'stock' / 'config.py'))
    assert stock_cfg.model.panoptic_head.type == 'Mask2FormerHead'
    mlp_cfg = Config.fromfile(str(work / 'mlp' / 'config.py'))
    assert mlp_cfg.model.panoptic_head.attr_head_layers == 3
    assert mlp_cfg.custom_hooks[1] == dict(
        type='AttrMatchCostWarmupHook', warmup_iters=2
    )
    # the runner registered and ran the warm-up hook in both runs
    for seed in (0, 1):
        log = (work / 'mlp' / f'seed{seed}' / 'train.log').read_text()
        assert 'AttrMatchCostWarmupHook' in log
    assert (work / 'ablation.png').stat().st_size > 10_000
    assert proc.stdout.count('min\n') == 6  # "mlp/seed1: done in 0.3 min"
    # finished runs are not trained again; the table is the same
    again = run(cmd, timeout=600)
    assert 'done in' not in again.stdout

    def rows(out):
        return [line for line in out.splitlines() if line.startswith('|')]

    assert rows(again.stdout) == rows(proc.stdout) == table


def test_a_run_stopped_in_its_last_validation_is_not_finished(tmp_path):
    (tmp_path / 'iter_10.pth').write_bytes(b'')
    assert not ABLATE.finished(str(tmp_path), 'iter_10.pth')
    (tmp_path / ABLATE.FINISHED).write_text('iter_5.pth\n')
    assert not ABLATE.finished(str(tmp_path), 'iter_10.pth')
    (tmp_path / ABLATE.FINISHED).write_text('iter_10.pth\n')
    assert ABLATE.finished(str(tmp_path), 'iter_10.pth')


def test_train_only_some_variants(tmp_path, monkeypatch):
    """``--train`` queues the named variants' runs and no other."""
    queued = []

    def fake_train(cfg_path, out, seed, checkpoint, threads):
        queued.append((osp.relpath(out, tmp_path), seed))
        return out, 0, 0.0

    monkeypatch.setattr(ABLATE, 'train_one', fake_train)
    argv = [CPU_CONFIG, '--work-dir', str(tmp_path), '--stock']
    argv += ['--seeds', '1', '2', '--variant', 'grad', 'a.b=1']
    args = ABLATE.parse_args(argv + ['--train', 'stock', 'grad'])
    assert ABLATE.train_all(ABLATE.parse_variants(args), args) == []
    assert sorted(queued) == [
        ('grad/seed1', 1),
        ('grad/seed2', 2),
        ('stock/seed1', 1),
        ('stock/seed2', 2),
    ]
    args = ABLATE.parse_args(argv + ['--train', 'stock', 'mlp'])
    with pytest.raises(ABLATE.AblationError, match='--train mlp: no such'):
        ABLATE.train_all(ABLATE.parse_variants(args), args)
