"""IF-Net training through tools/train.py, and
tools/inverseform/shapes2semseg.py."""

import json
import subprocess
import sys

import cv2
import pytest
import torch
from inverseform_utils import (
    REPO,
    coco_file,
    load_tool,
    train_ifnet,
    write_ifnet_config,
)

from mmmultilabel.inverseform import InverseFormLoss
from mmmultilabel.inverseform.net import InverseFormNet


def held_out_report(work_dir) -> dict:
    """The last InverseFormMetric line of the Runner's scalar log."""
    [scalars] = work_dir.glob('*/vis_data/scalars.json')
    lines = [json.loads(line) for line in scalars.read_text().splitlines()]
    return [line for line in lines if 'ifnet/rmse' in line][-1]


def test_trained_checkpoint_loads_on_cpu_with_its_report(trained_ifnet_run):
    ckpt = trained_ifnet_run / 'iter_400.pth'
    net, meta = InverseFormNet.from_checkpoint(str(ckpt), 'cpu')
    assert net.config == dict(tile_size=32, channels=16, hidden=128)
    assert not net.training and meta['iter'] == 400
    report = held_out_report(trained_ifnet_run)
    assert report['step'] == 400
    assert (
        report['ifnet/shift_0px']
        < report['ifnet/shift_2px']
        < report['ifnet/shift_4px']
    )
    assert 'ifnet/shift_4px_attacked' in report


@pytest.fixture(scope='module')
def shapes_root(tmp_path_factory):
    """4 training images of the real shapes generator (COCO file)."""
    root = tmp_path_factory.mktemp('shapes') / 'shapes'
    tool = [sys.executable, 'tools/dataset_converters/make_shapes.py']
    args = [root, '--num-train', 4, '--num-val', 1, '--seed', 1]
    subprocess.run(
        [*tool, *map(str, args)], cwd=REPO, check=True, capture_output=True
    )
    return root


def test_coco_training_resumes_and_the_loss_loads_its_checkpoint(
    shapes_root, tmp_path
):
    dataset = dict(data_root=str(shapes_root) + '/', tile_size=32)
    config = write_ifnet_config(
        tmp_path / 'ifnet_coco.py',
        dataset,
        iters=6,
        lr=1e-3,
        pct_start=0.5,
        model=dict(net=dict(tile_size=32, channels=4, hidden=16)),
        train_dataloader=dict(batch_size=4),
        val_dataloader=dict(batch_size=4, dataset=dict(num_samples=4)),
        default_hooks=dict(
            checkpoint=dict(interval=3), logger=dict(interval=1)
        ),
    )
    # stop at 3, then continue to 6 from the checkpoint
    work = tmp_path / 'work'
    train_ifnet(config, work, '--cfg-options', 'train_cfg.max_iters=3')
    log = train_ifnet(config, work, '--resume', work / 'iter_3.pth')
    assert 'resumed epoch: 0, iter: 3' in log
    assert 'Iter(train) [4/6]' in log and 'Iter(train) [1/6]' not in log
    assert 'ifnet/shift_4px_attacked' in log  # the metric in the log
    ckpt = torch.load(work / 'iter_6.pth', weights_only=False)
    steps = {int(s['step']) for s in ckpt['optimizer']['state'].values()}
    assert ckpt['meta']['iter'] == 6 and steps == {6}  # Adam continued
    loss = InverseFormLoss(str(work / 'iter_6.pth'), grid=(4, 4))
    assert loss.inverse_net.tile_size == 32
    for name, value in loss.inverse_net.state_dict().items():
        torch.testing.assert_close(value, ckpt['state_dict']['net.' + name])


def test_shapes2semseg_writes_label_pngs(tmp_path, capsys):
    tool = load_tool('tools/inverseform/shapes2semseg.py')
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations' / 'train.json').write_text(
        json.dumps(coco_file())
    )
    assert tool.main([str(tmp_path), '--splits', 'train']) == 0
    label = cv2.imread(str(tmp_path / 'semseg' / 'train' / 'img.png'), -1)
    assert label.shape == (24, 24)
    assert label[5, 5] == 2 and label[15, 15] == 1 and label[0, 0] == 0
    assert label[1, 21] == 255
    assert "{0: 'background', 1: 'circle', 2: 'square'}" in (
        capsys.readouterr().out
    )
    with pytest.raises(SystemExit, match='annotation file not found'):
        tool.main([str(tmp_path), '--splits', 'val'])
