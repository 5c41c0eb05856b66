"""tools/train.py, tools/test.py and resume, run as a user runs them."""

import json
import sys

import pytest
import torch
from tools_utils import CPU_CONFIG, fast_options, run


def _optimizer_steps(ckpt_path):
    ckpt = torch.load(ckpt_path, map_location='cpu', weights_only=False)
    steps = {int(s['step']) for s in ckpt['optimizer']['state'].values()}
    return ckpt['meta']['iter'], steps


def test_train_stop_resume_then_test(shapes_root, tmp_path):
    work = tmp_path / 'work'
    opts = fast_options(shapes_root, max_iters=2, interval=2)
    run(
        [
            sys.executable,
            'tools/train.py',
            CPU_CONFIG,
            '--work-dir',
            work,
            '--cfg-options',
            *opts,
        ]
    )
    assert _optimizer_steps(work / 'iter_2.pth') == (2, {2})

    # Continue to iteration 4 from the checkpoint of iteration 2.
    opts = fast_options(shapes_root, max_iters=4, interval=2)
    proc = run(
        [
            sys.executable,
            'tools/train.py',
            CPU_CONFIG,
            '--work-dir',
            work,
            '--resume',
            work / 'iter_2.pth',
            '--cfg-options',
            *opts,
        ]
    )
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [1/4]' not in log and 'Iter(train) [3/4]' in log
    # Optimizer state continued: 4 Adam steps, not 2 from a fresh start.
    assert _optimizer_steps(work / 'iter_4.pth') == (4, {4})

    metrics_file = tmp_path / 'metrics.json'
    test_cmd = [
        sys.executable,
        'tools/test.py',
        CPU_CONFIG,
        work / 'iter_4.pth',
    ]
    test_cmd += ['--work-dir', work]
    run(
        test_cmd
        + ['--show-dir', 'vis', '--metrics-out', metrics_file]
        + ['--cfg-options', *opts]
    )
    metrics = json.loads(metrics_file.read_text())
    assert 'coco/segm_mAP' in metrics
    assert len(list(work.glob('*/vis/*.png'))) == 4

    # The config's mask inputs (on) differ from the checkpoint's: a named
    # error with the settings it was trained with, not a size-mismatch
    # warning and untrained attribute classifiers.
    off = 'model.panoptic_head.attr_mask_features=False'
    proc = run(test_cmd + ['--cfg-options', *opts, off], check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert f'{work / "iter_4.pth"}: ' in proc.stderr
    assert (
        '--cfg-options model.panoptic_head.attr_mask_features=True '
        'model.panoptic_head.attr_mask_stats=True' in proc.stderr
    )


def test_tools_refuse_bad_input_with_clear_errors(tmp_path):
    proc = run(
        [sys.executable, 'tools/train.py', tmp_path / 'missing.py'],
        check=False,
    )
    assert proc.returncode != 0
    assert 'config file not found' in proc.stderr
    assert 'Traceback' not in proc.stderr

    existing = tmp_path / 'metrics.json'
    existing.write_text('{}')
    proc = run(
        [
            sys.executable,
            'tools/test.py',
            CPU_CONFIG,
            CPU_CONFIG,
            '--metrics-out',
            existing,
        ],
        check=False,
    )
    assert proc.returncode != 0 and '--force' in proc.stderr
    assert existing.read_text() == '{}'


def test_amp_config_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip('checks the message on a machine without CUDA')
    amp_cfg = CPU_CONFIG.replace(
        'mask2former-attr_r18_1xb8-1500i_shapes.py',
        'mask2former-attr_r50_8xb2-amp-lsj-50e_coco-attr.py',
    )
    proc = run([sys.executable, 'tools/train.py', amp_cfg], check=False)
    assert proc.returncode == 1
    assert 'AmpOptimWrapper' in proc.stderr and 'CUDA' in proc.stderr
    assert 'Traceback' not in proc.stderr


@pytest.mark.parametrize('defect', ['syntax', 'defects', 'missing'])
def test_test_tool_names_a_bad_annotation_file(defect, tmp_path):
    """tools/test.py on a bad annotation file: one message naming the file,
    the place and the fix, exit 1, no traceback."""
    ann = tmp_path / 'val.json'
    if defect == 'syntax':
        ann.write_text('{"images": [\n  {"id": 1,}\n]}')
        expected = f'{ann}:2:12: invalid JSON'
    elif defect == 'defects':
        ann.write_text(
            json.dumps(
                dict(
                    images=[dict(id=1, file_name='a.png', height=8, width=8)],
                    categories=[dict(id=1, name='circle')],
                    annotations=[
                        dict(
                            id=5,
                            image_id=1,
                            category_id=3,
                            bbox=[1, 1, 2, 2],
                            area=4,
                        )
                    ],
                )
            )
        )
        expected = (
            'annotation id=5 (image id=1): field "category_id": unknown '
            'category id 3'
        )
    else:
        expected = f'file not found: {ann}'
    proc = run(
        [
            sys.executable,
            'tools/test.py',
            CPU_CONFIG,
            CPU_CONFIG,  # any existing file: the data fails first
            '--work-dir',
            tmp_path / 'work',
            '--cfg-options',
            f'test_dataloader.dataset.ann_file={ann}',
            f'test_evaluator.ann_file={ann}',
        ],
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert expected in proc.stderr, proc.stderr[-2000:]
    if defect == 'defects':
        assert f'python tools/misc/validate_dataset.py {ann}' in proc.stderr


def test_train_tool_names_a_bad_annotation_file(tmp_path):
    ann = tmp_path / 'train.json'
    ann.write_text('{"images": [\n  {"id": 1,}\n]}')
    proc = run(
        [
            sys.executable,
            'tools/train.py',
            CPU_CONFIG,
            '--work-dir',
            tmp_path / 'work',
            '--cfg-options',
            f'train_dataloader.dataset.ann_file={ann}',
        ],
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert f'{ann}:2:12: invalid JSON' in proc.stderr


def test_checkpoint_global_refused_then_allowed_from_the_cli(
    shapes_root, tmp_path
):
    """A checkpoint holding a global outside mmengine's allow-list is
    refused with a message naming it; --safe-globals allows it."""
    import fractions

    ckpt = tmp_path / 'foreign.pth'
    torch.save(
        dict(state_dict={}, meta=dict(ratio=fractions.Fraction(1, 3))), ckpt
    )
    cmd = [
        sys.executable,
        'tools/test.py',
        CPU_CONFIG,
        ckpt,
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        *fast_options(shapes_root),
    ]
    proc = run(cmd, check=False)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr
    assert 'fractions.Fraction' in proc.stderr
    assert '--safe-globals fractions.Fraction' in proc.stderr
    proc = run(cmd + ['--safe-globals', 'fractions.Fraction'])
    assert 'coco/segm_mAP' in proc.stdout + proc.stderr
