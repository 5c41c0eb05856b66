"""plot_curves reads MMEngine's scalars.json and plots the logged points."""

import importlib.util
import json
import os.path as osp

import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'plot_curves.py')
    spec = importlib.util.spec_from_file_location('plot_curves', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PC = load_tool()

# An iteration-based run as LoggerHook writes it: the first validation at
# step 0 (log_metric_by_epoch=True logs the epoch, 0 in such runs), the
# second at its iteration (log_metric_by_epoch=False).
ITER_RUN = [
    dict(lr=0.1, loss=3.0, loss_attr_color=1.0, iter=50, step=50),
    dict(lr=0.1, loss=2.0, loss_attr_color=0.6, iter=100, step=100),
    {'coco/segm_mAP': 0.2, 'coco/segm_color_acc': 0.5, 'step': 0},
    dict(lr=0.1, loss=1.5, loss_attr_color=0.4, iter=150, step=150),
    dict(lr=0.01, loss=1.0, iter=200, step=200),
    {'coco/segm_mAP': 0.4, 'coco/segm_color_acc': 0.9, 'step': 200},
]
# An epoch-based run: 10 iterations per epoch, validation after each, the
# second logged at its iteration (log_metric_by_epoch=False).
EPOCH_RUN = [
    dict(loss=2.0, epoch=1, iter=5, step=5),
    dict(loss=1.8, epoch=1, iter=10, step=10),
    {'coco/bbox_mAP': 0.1, 'step': 1},
    dict(loss=1.2, epoch=2, iter=5, step=15),
    dict(loss=1.0, epoch=2, iter=10, step=20),
    {'coco/bbox_mAP': 0.3, 'step': 20},
]


def write_log(path, lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(line) + '\n' for line in lines))
    return path


def test_iteration_based_points(tmp_path):
    recs = PC.load_records([write_log(tmp_path / 's.json', ITER_RUN)])
    xs, ys = PC.curve(recs, 'loss', 'iter')
    assert xs.tolist() == [50, 100, 150, 200]
    assert ys.tolist() == [3.0, 2.0, 1.5, 1.0]
    # the step-0 validation sits at the last training iteration before it
    xs, ys = PC.curve(recs, 'coco/segm_mAP', 'iter')
    assert xs.tolist() == [100, 200]
    assert ys.tolist() == [0.2, 0.4]
    assert PC.matching_keys(recs, 'segm_mAP') == ['coco/segm_mAP']
    assert PC.matching_keys(recs, '*_acc') == ['coco/segm_color_acc']
    assert PC.matching_keys(recs, 'loss_attr_*') == ['loss_attr_color']
    assert PC.matching_keys(recs, 'loss*') == ['loss', 'loss_attr_color']
    # moving average of 2 points
    xs, ys = PC.curve(recs, 'loss', 'iter', smooth=2)
    assert xs.tolist() == [100, 150, 200]
    assert ys.tolist() == [2.5, 1.75, 1.25]


def test_epoch_based_points(tmp_path):
    recs = PC.load_records([write_log(tmp_path / 's.json', EPOCH_RUN)])
    xs, ys = PC.curve(recs, 'loss', 'epoch')
    assert xs.tolist() == [0.5, 1.0, 1.5, 2.0]
    assert ys.tolist() == [2.0, 1.8, 1.2, 1.0]
    xs, ys = PC.curve(recs, 'coco/bbox_mAP', 'epoch')
    assert xs.tolist() == [1, 2]
    assert ys.tolist() == [0.1, 0.3]
    xs, _ = PC.curve(recs, 'coco/bbox_mAP', 'iter')
    assert xs.tolist() == [10, 20]


def test_work_dirs_overlaid(tmp_path):
    # a resumed run: two time-stamped logs read in order
    a = tmp_path / 'run_a'
    write_log(
        a / '20260101_000000' / 'vis_data' / 'scalars.json', ITER_RUN[:3]
    )
    write_log(
        a / '20260102_000000' / 'vis_data' / 'scalars.json', ITER_RUN[3:]
    )
    b = write_log(
        tmp_path / 'run_b' / '20260101_000000' / 'vis_data' / 'scalars.json',
        EPOCH_RUN,
    )
    out = tmp_path / 'curves.png'
    runs = PC.main(
        [
            str(a),
            str(b),
            '--keys',
            'loss',
            '*_mAP',
            '--x',
            'iter',
            '--out',
            str(out),
        ]
    )
    assert list(runs) == ['run_a', 'run_b']
    xs, _ = PC.curve(runs['run_a'], 'coco/segm_mAP', 'iter')
    assert xs.tolist() == [100, 200]
    assert out.is_file() and out.stat().st_size > 1000


def test_plotted_lines_carry_the_points(tmp_path):
    recs = PC.load_records([write_log(tmp_path / 's.json', ITER_RUN)])
    fig = PC.plot_runs({'demo': recs}, ['loss', '*_mAP'], 'iter')
    loss_ax, map_ax = fig.axes[:2]
    line = loss_ax.lines[0]
    assert line.get_label() == 'loss'
    np.testing.assert_array_equal(line.get_xdata(), [50, 100, 150, 200])
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.5, 1.0])
    np.testing.assert_array_equal(map_ax.lines[0].get_xdata(), [100, 200])


def test_errors_name_what_is_wrong(tmp_path):
    log = write_log(tmp_path / 's.json', ITER_RUN)
    with pytest.raises(SystemExit, match='no key matches "segm_f1".*loss'):
        PC.main(
            [str(log), '--keys', 'segm_f1', '--out', str(tmp_path / 'x.png')]
        )
    with pytest.raises(SystemExit, match='iteration-based'):
        PC.main([str(log), '--x', 'epoch', '--out', str(tmp_path / 'x.png')])
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1, "step": 1}\n{"loss": 2,\n')
    with pytest.raises(SystemExit, match=r'bad.json:2: not JSON'):
        PC.main([str(bad), '--out', str(tmp_path / 'x.png')])
    with pytest.raises(SystemExit, match='no \\*/vis_data/scalars.json'):
        PC.main([str(tmp_path), '--out', str(tmp_path / 'x.png')])
