"""bench_dataset compares medians per case and fails on a missed target."""

import importlib.util
import os.path as osp

import pytest
from tools_utils import REPO

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'bench_dataset.py')


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location('bench_dataset', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def figures(time, peak_mem=100.0, serialized=10.0, imports=1.0):
    return dict(
        time=time, peak_mem=peak_mem, serialized=serialized, imports=imports
    )


def runs(first_times, cached_peak=110.0):
    """CocoDataset: time 10 s in training mode (medians of 3 runs), 4 s in
    test mode; AttrCocoDataset's first loads take ``first_times``."""
    return {
        ('coco', 'train'): [figures(9.0), figures(10.0), figures(30.0)],
        ('coco', 'test'): [figures(4.0)] * 3,
        ('attr', 'train, first load'): [figures(t) for t in first_times],
        ('attr', 'train, cached'): [figures(8.0, cached_peak)] * 3,
        ('attr', 'test'): [figures(4.0)] * 3,
    }


def test_medians_within_the_targets_pass(bench, capsys):
    # median 12.9 / median 10 = 1.29 <= 1.3; one slow run does not count
    assert bench.report(runs([12.9, 50.0, 1.0])) == 0
    out = capsys.readouterr().out
    assert 'MISSED' not in out
    line = next(x for x in out.splitlines() if 'first load  time' in x)
    assert line.split()[-2:] == ['1.29', '1.30']


@pytest.mark.parametrize(
    'first_times, cached_peak, missed',
    [
        ([13.1, 13.1, 13.1], 110.0, 'train, first load  time'),
        ([8.0, 8.0, 8.0], 126.0, 'train, cached      peak_mem'),
    ],
)
def test_a_missed_target_fails(
    bench, capsys, first_times, cached_peak, missed
):
    assert bench.report(runs(first_times, cached_peak)) == 1
    lines = [x for x in capsys.readouterr().out.splitlines() if 'MISSED' in x]
    assert len(lines) == 1 and lines[0].startswith(missed)
