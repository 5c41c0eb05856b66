"""Exporting the wrong model or feeding an exported one the wrong input
gives an error that names the file and the fix."""

import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
from deploy_utils import export_tool, write_images
from mmdet.registry import MODELS
from mmengine.config import Config

from mmmultilabel.apis import AttrInferencer
from mmmultilabel.deploy import (
    DeployError,
    InputMismatchError,
    MissingMetadataError,
)


def _inferencer(cfg, weights, **kwargs):
    return AttrInferencer(
        cfg, weights, device='cpu', show_progress=False, **kwargs
    )


def test_model_without_metadata(static_onnx, tmp_path):
    proto = onnx.load(static_onnx)
    del proto.metadata_props[:]
    bare = str(tmp_path / 'bare.onnx')
    onnx.save(proto, bare)
    with pytest.raises(MissingMetadataError) as info:
        _inferencer(None, bare)
    assert 'bare.onnx' in str(info.value)
    assert 'tools/deployment/export_onnx.py' in str(info.value)


@pytest.mark.parametrize('channels', [1, 4])
def test_image_of_wrong_channel_count(static_onnx, channels):
    img = np.full((64, 64, channels), 90, np.uint8)
    inferencer = _inferencer(None, static_onnx)
    with pytest.raises(InputMismatchError) as info:
        inferencer(img.squeeze(-1) if channels == 1 else img)
    msg = str(info.value)
    assert 'static.onnx' in msg and 'takes images of 3 channels' in msg
    assert 'convert grey or RGBA images' in msg


def test_wrong_size_for_a_static_graph(static_onnx, tmp_path):
    # resized to 31 x 64, padded to 32 x 64; the graph takes 64 x 64
    write_images(tmp_path, [(30, 61)])
    inferencer = _inferencer(None, static_onnx)
    with pytest.raises(InputMismatchError) as info:
        inferencer(str(tmp_path / 'img0.png'))
    msg = str(info.value)
    assert 'static.onnx was exported for a fixed input of 1x3x64x64' in msg
    assert 'the batch is 1x3x32x64' in msg
    assert '--shape 32 64 or with --dynamic' in msg


def test_checkpoint_of_another_architecture(
    tiny_files, mask2former_cfg, tmp_path, capsys
):
    # stock Mask2Former weights (no attribute classifiers)
    stock_ckpt = str(tmp_path / 'stock.pth')
    torch.save(
        dict(state_dict=MODELS.build(mask2former_cfg.model).state_dict()),
        stock_ckpt,
    )
    out = str(tmp_path / 'm.onnx')
    assert export_tool.main([tiny_files[0], stock_ckpt, out]) == 2
    err = capsys.readouterr().err
    assert 'stock.pth: the checkpoint does not fit the model' in err
    assert 'give the config the checkpoint was trained with' in err

    # and its config
    stock_cfg = str(tmp_path / 'stock_cfg.py')
    mask2former_cfg.dump(stock_cfg)
    assert export_tool.main([stock_cfg, stock_ckpt, out]) == 2
    err = capsys.readouterr().err
    assert 'stock_cfg.py: builds Mask2Former' in err
    assert 'panoptic_head=Mask2FormerHead' in err
    assert 'panoptic_head=AttrMask2FormerHead' in err


def test_export_options_are_checked(tiny_files, tmp_path, capsys):
    out = str(tmp_path / 'm.onnx')
    cases = [
        ([], 'a static graph needs its input size: give --shape H W'),
        (['--shape', '60', '64'], 'give multiples of it'),
        (['--dynamic', '--opset', '15'], 'give --opset 16 or later'),
    ]
    for options, message in cases:
        assert export_tool.main([*tiny_files, out, *options]) == 2
        assert message in capsys.readouterr().err


def test_export_keeps_an_existing_file_unless_forced(
    tiny_files, tmp_path, capsys
):
    out = tmp_path / 'm.onnx'
    out.write_bytes(b"the user's own graph")
    options = ['--shape', '64', '64']
    assert export_tool.main([*tiny_files, str(out), *options]) == 2
    assert '--force' in capsys.readouterr().err
    assert out.read_bytes() == b"the user's own graph"
    assert export_tool.main([*tiny_files, str(out), *options, '--force']) == 0
    assert onnx.load(str(out)).graph.output


def test_backend_must_fit_the_file(tiny_files, static_onnx):
    with pytest.raises(ValueError, match='tiny.pth: the onnxruntime backend'):
        _inferencer(*tiny_files, backend='onnxruntime')
    with pytest.raises(ValueError, match="backend='onnxruntime'"):
        _inferencer(tiny_files[0], static_onnx, backend='pytorch')
    with pytest.raises(DeployError, match='only predicts'):
        _inferencer(None, static_onnx).model(
            torch.zeros(1, 3, 64, 64), [], mode='loss'
        )


def test_import_does_not_load_onnx():
    code = (
        'import sys, mmmultilabel, mmmultilabel.apis; '
        "print(sorted(m for m in ('onnx', 'onnxruntime') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, '-c', code], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == '[]'


def test_config_is_read_from_the_file(static_onnx, tiny_files):
    inferencer = _inferencer(None, static_onnx)
    cfg = Config.fromfile(tiny_files[0])
    assert inferencer.cfg.model.panoptic_head.num_queries == (
        cfg.model.panoptic_head.num_queries
    )
    assert inferencer.model.dataset_meta['classes'] == (
        'circle',
        'square',
        'triangle',
    )
