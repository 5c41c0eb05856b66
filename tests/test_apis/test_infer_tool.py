"""tools/infer.py: run as a user runs it, and its argument handling."""

import importlib.util
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'infer.py')


def _load_tool():
    spec = importlib.util.spec_from_file_location('infer_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_folder_with_a_corrupt_image(attr_files, images_dir, tmp_path):
    (images_dir / 'broken.jpg').write_bytes(b'\x89PNG\r\n not really')
    out_dir = tmp_path / 'out'
    proc = subprocess.run(
        [
            sys.executable,
            TOOL,
            *attr_files,
            str(images_dir),
            '--out-dir',
            str(out_dir),
            '--score-thr',
            '0',
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    assert proc.returncode == 1, proc.stderr[-3000:]
    summary = proc.stderr[proc.stderr.index('could not be read') :]
    assert 'broken.jpg' in summary and 'img0.png' not in summary
    assert sorted(p.name for p in (out_dir / 'preds').iterdir()) == [
        f'img{i}.json' for i in range(3)
    ]
    assert sorted(p.name for p in (out_dir / 'vis').iterdir()) == [
        f'img{i}.png' for i in range(3)
    ]
    with open(out_dir / 'preds' / 'img1.json') as f:
        record = json.load(f)
    assert record['image'] == str(images_dir / 'img1.png')
    assert (record['height'], record['width']) == (64, 50)
    assert record['instances'] and set(record['instances'][0]) == {
        'category',
        'category_id',
        'score',
        'bbox',
        'mask',
        'attributes',
    }


def test_thresholds_from_the_command_line(attr_files, images_dir, tmp_path):
    tool = _load_tool()
    image = str(images_dir / 'img0.png')
    out_dir = tmp_path / 'out'
    argv = [*attr_files, image, '--out-dir', str(out_dir), '--no-vis']
    code = tool.main(
        argv + ['--score-thr', '0', '--attr-thr', '0', 'color=0.999']
    )
    assert code == 0
    assert sorted(os.listdir(out_dir)) == ['preds']
    assert sorted(os.listdir(out_dir / 'preds')) == ['img0.json']
    with open(out_dir / 'preds' / 'img0.json') as f:
        instances = json.load(f)['instances']
    assert instances
    for inst in instances:
        assert inst['attributes']['color'] == {'value': None, 'score': None}
        assert inst['attributes']['size']['value'] is not None

    assert tool.main(argv + ['--score-thr', '1.01']) == 0
    with open(out_dir / 'preds' / 'img0.json') as f:
        assert json.load(f)['instances'] == []


def test_parse_attr_thr():
    tool = _load_tool()
    groups = ['color', 'size', 'pattern']
    assert tool.parse_attr_thr(None, groups) is None
    assert tool.parse_attr_thr(['0.6'], groups) == 0.6
    assert tool.parse_attr_thr(['pattern=0.8'], groups) == dict(pattern=0.8)
    assert tool.parse_attr_thr(['0.5', 'pattern=0.8'], groups) == dict(
        color=0.5, size=0.5, pattern=0.8
    )
    with pytest.raises(ValueError, match='"color=high" is neither'):
        tool.parse_attr_thr(['color=high'], groups)


def test_clear_errors(attr_files, images_dir, tmp_path, capsys):
    tool = _load_tool()
    cfg, ckpt = attr_files
    out = ['--out-dir', str(tmp_path / 'out')]
    assert tool.main([cfg, str(tmp_path / 'missing.pth'), 'x.png', *out]) == 2
    assert 'checkpoint file not found' in capsys.readouterr().err
    assert tool.main([cfg, ckpt, str(tmp_path / 'nothing'), *out]) == 2
    assert 'input not found' in capsys.readouterr().err
    image = str(images_dir / 'img0.png')
    assert tool.main([cfg, ckpt, image, *out, '--attr-thr', 'shape=0.5']) == 2
    assert "undeclared attribute group(s) ['shape']" in (
        capsys.readouterr().err
    )
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert tool.main([cfg, ckpt, str(empty), *out]) == 2
    assert 'no image in folder' in capsys.readouterr().err


def _instances(coco: dict) -> dict:
    """``{image name: sorted [(category, attributes, mask bytes)]}``."""
    import pycocotools.mask as mask_util

    cats = {c['id']: c['name'] for c in coco['categories']}
    size = {i['id']: (i['height'], i['width']) for i in coco['images']}
    names = {i['id']: osp.basename(i['file_name']) for i in coco['images']}
    out = {name: [] for name in names.values()}
    for a in coco['annotations']:
        h, w = size[a['image_id']]
        seg = a['segmentation']
        rle = (
            mask_util.merge(mask_util.frPyObjects(seg, h, w))
            if isinstance(seg, list)
            else seg
        )
        mask = mask_util.decode(rle)
        attrs = {k: v for k, v in a.get('attributes', {}).items()}
        out[names[a['image_id']]].append(
            (cats[a['category_id']], json.dumps(attrs, sort_keys=True), mask)
        )
    return out


@pytest.mark.parametrize('fmt', ['cvat', 'label-studio'])
def test_export_reads_back(fmt, attr_files, images_dir, tmp_path):
    """Predictions exported for a tool read back with that tool's reader:
    the same instances, masks and attribute values as the records."""
    import pycocotools.mask as mask_util

    from mmmultilabel.datasets.cvat import CvatOptions, read_cvat
    from mmmultilabel.datasets.label_studio import (
        LabelConfig,
        convert_label_studio,
    )

    tool = _load_tool()
    out_dir = tmp_path / 'out'
    argv = [*attr_files, str(images_dir), '--out-dir', str(out_dir)]
    argv += ['--no-vis', '--score-thr', '0.02', '--export', fmt]
    assert tool.main(argv) == 0
    expected = {}
    for name in sorted(os.listdir(out_dir / 'preds')):
        with open(out_dir / 'preds' / name) as f:
            record = json.load(f)
        rows = []
        for inst in record['instances']:
            mask = mask_util.decode(inst['mask'])
            if not mask.any():
                continue
            attrs = {
                g: a['value']
                for g, a in inst['attributes'].items()
                if a['value'] is not None
            }
            rows.append(
                (inst['category'], json.dumps(attrs, sort_keys=True), mask)
            )
        expected[osp.basename(record['image'])] = rows
    assert sum(map(len, expected.values())) > 3
    export = out_dir / fmt
    if fmt == 'cvat':
        (coco,) = read_cvat(
            str(export / 'annotations.xml'),
            # CVAT holds a multi-label group as the label's checkboxes
            CvatOptions(
                img_dir=str(images_dir),
                checkboxes='group',
                checkbox_group='pattern',
            ),
        ).subsets.values()
    else:
        config = LabelConfig.from_string(
            (export / 'label_config.xml').read_text()
        )
        coco = convert_label_studio(
            str(export / 'tasks.json'),
            config,
            img_dir=str(images_dir),
            source='predictions',
            progress=False,
        ).coco
    got = _instances(coco)
    assert set(got) == set(expected)
    key = lambda r: (r[0], r[1], r[2].tobytes())  # noqa: E731
    for name, rows in expected.items():
        assert sorted(map(key, got[name])) == sorted(map(key, rows)), name
