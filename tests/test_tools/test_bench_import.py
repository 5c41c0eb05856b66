"""bench_import compares the medians of fresh-process imports and fails
when ``import mmmultilabel`` costs more than its targets over the
baseline."""

import itertools

import pytest
from test_inverseform.inverseform_utils import load_tool

BI = load_tool('tools/analysis_tools/bench_import.py')
MIB = 2**20


def fake_measure(baseline, package):
    """A ``measure`` that cycles through the given ``(time, MiB)`` runs of
    each side (the warm-up run takes the first)."""
    runs = {
        BI.SIDES['baseline']: itertools.cycle(baseline),
        BI.SIDES['mmmultilabel']: itertools.cycle(package),
    }

    def measure(statement, before=''):
        time, mem = next(runs[statement])
        return dict(time=time, peak_mem=mem * MIB, modules=100)

    return measure


@pytest.mark.parametrize(
    'package,status',
    [
        # medians 1.0 s / 300 MiB against 1.2 s / 310 MiB: within 0.3, 20
        ([(1.2, 310), (1.2, 310), (9.0, 900), (1.1, 305)], 0),
        # median 1.4 s: 0.4 s over
        ([(1.4, 310), (1.4, 310), (1.5, 310), (1.0, 310)], 1),
        # median 325 MiB: 25 MiB over
        ([(1.0, 325), (1.0, 325), (1.0, 330), (1.0, 300)], 1),
    ],
)
def test_verdict_from_the_medians(monkeypatch, capsys, package, status):
    baseline = [(1.0, 300), (1.0, 300), (0.5, 250), (8.0, 800)]
    monkeypatch.setattr(BI, 'measure', fake_measure(baseline, package))
    assert BI.main(['--repeats', '3']) == status
    out = capsys.readouterr().out
    assert 'target' in out and 'difference' in out
    assert ('missed' in out) == bool(status)
