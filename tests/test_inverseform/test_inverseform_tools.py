"""tools/train_inverseform.py and tools/dataset_converters/shapes2semseg.py."""

import json

import cv2
import pytest
from inverseform_utils import load_tool

from mmmultilabel.models.losses.inverseform_net import InverseFormNet


def test_trained_checkpoint_loads_on_cpu_with_its_report(trained_ifnet):
    net, meta = InverseFormNet.from_checkpoint(trained_ifnet, 'cpu')
    assert net.tile_size == 32 and not net.training
    report = meta['held_out']
    assert report['shift_0px'] < report['shift_2px'] < report['shift_4px']
    assert meta['iters'] == 400 and meta['zoom_range'] == [1.0, 1.0]


def test_train_tool_reports_bad_arguments(tmp_path, capsys):
    tool = load_tool('tools/train_inverseform.py')
    with pytest.raises(SystemExit, match='neither a COCO annotation'):
        tool.main([str(tmp_path / 'missing.json')])
    with pytest.raises(SystemExit, match='multiple of 16'):
        tool.main([str(tmp_path), '--tile-size', '40'])
    with pytest.raises(SystemExit, match='no label .png files'):
        tool.main([str(tmp_path)])


def test_train_tool_reads_coco_instances(tmp_path):
    tool = load_tool('tools/train_inverseform.py')
    ann = tmp_path / 'ann.json'
    ann.write_text(json.dumps(coco_file()))
    [(semantic, num_classes, instances)] = tool.load_maps(str(ann), 255)
    assert num_classes == 3
    assert semantic[5, 5] == 2 and semantic[15, 15] == 1
    assert instances[5, 5] == 1 and instances[15, 15] == 2


def coco_file() -> dict:
    """One 24x24 image: a square of category 7 (label 2), a square of
    category 3 (label 1) and a crowd region."""

    def square(x, y, s):
        return [[x, y, x + s, y, x + s, y + s, x, y + s]]

    return dict(
        images=[dict(id=1, file_name='a/img.jpg', height=24, width=24)],
        categories=[dict(id=3, name='circle'), dict(id=7, name='square')],
        annotations=[
            dict(id=1, image_id=1, category_id=7, iscrowd=0,
                 segmentation=square(2, 2, 8), area=64, bbox=[2, 2, 8, 8]),
            dict(id=2, image_id=1, category_id=3, iscrowd=0,
                 segmentation=square(12, 12, 8), area=64,
                 bbox=[12, 12, 8, 8]),
            dict(id=3, image_id=1, category_id=3, iscrowd=1,
                 segmentation=square(20, 0, 3), area=9, bbox=[20, 0, 3, 3]),
        ],
    )  # fmt: skip


def test_shapes2semseg_writes_label_pngs(tmp_path, capsys):
    tool = load_tool('tools/dataset_converters/shapes2semseg.py')
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


def test_train_tool_fine_tunes_a_checkpoint(
    trained_ifnet, label_dir, tmp_path
):
    tool = load_tool('tools/train_inverseform.py')
    out = str(tmp_path / 'tuned.pth')
    args = [str(label_dir), '--init', trained_ifnet, '--out', out]
    args += ['--iters', '3', '--batch-size', '4', '--eval-samples', '8']
    assert tool.main(args) == 0
    net, meta = InverseFormNet.from_checkpoint(out)
    assert net.tile_size == 32  # from the initial checkpoint
    assert meta['init'] == trained_ifnet and meta['iters'] == 3
    assert 'shift_4px_attacked' in meta['held_out']
