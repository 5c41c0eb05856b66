"""bench_infer pairs the two inferencers' calls, compares medians of the
per-image ratios and fails above its target."""

import sys

import pytest
from test_inverseform.inverseform_utils import load_tool
from tools_utils import run

BI = load_tool('tools/analysis_tools/bench_infer.py')
TOOL = 'tools/analysis_tools/bench_infer.py'

# Five (round, image) pairs. Wall-clock ratios attr / stock:
# 1.2, 1.0, 1.1, 1.1, 1.0 -> median 1.1; medians 0.12 s and 0.10 s (whose
# ratio, 1.2, is not the measure).
WALL = dict(
    attr=[0.12, 0.10, 0.33, 0.11, 0.20],
    stock=[0.10, 0.10, 0.30, 0.10, 0.20],
)
# CPU ratios 2.0, 1.0, 0.5, 1.5, 1.2 -> median 1.2.
CPU = dict(
    attr=[0.2, 0.1, 0.1, 0.15, 0.12],
    stock=[0.1, 0.1, 0.2, 0.1, 0.1],
)


def test_summary_is_the_medians_of_the_pairs():
    assert BI.summarize(WALL, CPU) == pytest.approx(
        dict(attr=0.12, stock=0.10, ratio=1.1, cpu_ratio=1.2)
    )


def test_an_even_number_of_pairs_takes_the_middle_two():
    wall = dict(attr=[0.2, 0.1], stock=[0.1, 0.1])  # ratios 2.0, 1.0
    assert BI.summarize(wall, wall)['ratio'] == pytest.approx(1.5)


@pytest.mark.parametrize(
    'ratio, target, status', [(1.1, 1.05, 1), (1.04, 1.05, 0), (1.1, 1.2, 0)]
)
def test_verdict_against_the_target(capsys, ratio, target, status):
    summary = dict(attr=0.11, stock=0.10, ratio=ratio, cpu_ratio=1.0)
    assert BI.report(summary, target) == status
    out = capsys.readouterr().out
    assert f'target <= {target}' in out
    assert ('above the' in out) == bool(status)


def test_sides_alternate_from_image_to_image_and_round_to_round(monkeypatch):
    monkeypatch.setattr(BI.gc, 'collect', lambda: 0)  # a second per call
    calls = []
    infer = {
        side: (lambda img, s=side: calls.append((s, img))) for side in BI.SIDES
    }
    wall, cpu = BI.run_rounds(infer, ['a', 'b'], rounds=2, warmup=1)
    assert calls == [
        ('attr', 'a'), ('stock', 'a'),  # warm-up, not timed
        ('attr', 'a'), ('stock', 'a'), ('stock', 'b'), ('attr', 'b'),
        ('stock', 'a'), ('attr', 'a'), ('attr', 'b'), ('stock', 'b'),
    ]  # fmt: skip
    assert [len(wall[s]) for s in BI.SIDES] == [4, 4]
    assert [len(cpu[s]) for s in BI.SIDES] == [4, 4]


def test_tool_runs_on_three_images(shapes_root):
    # target 0: any timing misses it, so the exit status must say so
    proc = run(
        [sys.executable, TOOL, '--data-root', shapes_root, '--images', 3]
        + ['--rounds', 1, '--warmup', 1, '--threads', 1, '--target', 0],
        check=False,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert '3 images x 1 rounds' in proc.stdout
    for label in ('DetInferencer', 'AttrInferencer', 'CPU-time ratio'):
        assert label in proc.stdout
    assert 'above the 0.0 target' in proc.stdout


def test_too_few_images_is_a_clear_error(shapes_root):
    with pytest.raises(SystemExit, match='holds 4 images, fewer than'):
        BI.val_images(str(shapes_root), 5, '')
