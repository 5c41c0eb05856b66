"""browse_dataset draws pipeline samples with their attributes."""

import importlib.util
import os.path as osp

import cv2
import numpy as np
from attr_data_utils import GROUPS, REPO, run_tool
from mmdet.visualization import DetLocalVisualizer

from mmmultilabel.utils import AttributeSpec
from mmmultilabel.visualization import AttrDetLocalVisualizer

TOOL = 'tools/analysis_tools/browse_dataset.py'

CONFIG = """
custom_imports = dict(imports=['mmmultilabel'], allow_failed_imports=False)
default_scope = 'mmdet'
train_dataloader = dict(dataset=dict(
    type='AttrCocoDataset',
    ann_file='{ann_file}',
    data_prefix=dict(img='{img_dir}'),
    filter_cfg=dict(filter_empty_gt=True),
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='LoadAttrAnnotations', with_bbox=True, with_mask=True),
        dict(type='RandomFlip', prob=1.0),
        dict(type='PackAttrDetInputs'),
    ]))
{visualizer}
"""


def load_tool():
    spec = importlib.util.spec_from_file_location(
        'browse_dataset', osp.join(REPO, TOOL)
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BROWSE = load_tool()


def write_config(path, data, visualizer=''):
    path.write_text(CONFIG.format(visualizer=visualizer, **data))
    return path


def test_cli_writes_one_png_per_sample(five_instances, tmp_path):
    cfg = write_config(tmp_path / 'cfg.py', five_instances)
    out = tmp_path / 'vis'
    proc = run_tool(TOOL, cfg, '--output-dir', out, '--scale', '2')
    assert proc.returncode == 0, proc.stderr
    img = cv2.imread(str(out / '00000_five.png'))
    assert img.shape == (200, 200, 3)
    # Masks and texts were drawn over the flat grey test image.
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 10


def test_attribute_text():
    spec = AttributeSpec(GROUPS)
    assert BROWSE.attribute_text(spec, [1, 1, 0]) == 'green striped'
    assert BROWSE.attribute_text(spec, [-1, 1, 1]) == 'striped+dotted'
    assert BROWSE.attribute_text(spec, [0, 0, 0]) == 'red no pattern'
    assert BROWSE.attribute_text(spec, [-1, -1, -1]) == ''


def test_attribute_visualizer_draws_its_own_labels(five_instances, tmp_path):
    assert not BROWSE.draws_own_instances(DetLocalVisualizer(name='plain'))
    assert BROWSE.draws_own_instances(AttrDetLocalVisualizer(name='attr'))
    cfg = write_config(
        tmp_path / 'cfg.py',
        five_instances,
        "visualizer = dict(type='AttrDetLocalVisualizer')",
    )
    out = tmp_path / 'vis'
    assert BROWSE.main([str(cfg), '--output-dir', str(out)]) == 0
    assert cv2.imread(str(out / '00000_five.png')).shape == (512, 512, 3)


def test_stock_visualizer_gets_attribute_label_texts(
    five_instances, tmp_path, monkeypatch
):
    drawn = []

    def add_datasample(self, name, image, data_sample, **kwargs):
        drawn.append(list(data_sample.gt_instances.label_names))

    monkeypatch.setattr(DetLocalVisualizer, 'add_datasample', add_datasample)
    cfg = write_config(tmp_path / 'cfg.py', five_instances)
    assert BROWSE.main([str(cfg), '--output-dir', str(tmp_path)]) == 0
    assert drawn == [
        [
            'a: red no pattern',
            'b: green striped',
            'c: blue',
            'd: striped+dotted',
            'e: red dotted',
        ]
    ]
