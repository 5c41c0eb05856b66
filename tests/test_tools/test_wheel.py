"""The built wheel, installed into a fresh virtual environment: it carries
configs and tools under mmmultilabel/.mim, `mim train` / `mim test` run from
another directory, its metadata asks for ranges (no mmcv, mmseg as an
extra), and it works without mmsegmentation.

The environment reuses this one's compiled packages (torch, mmcv, ...)
through a .pth file, minus mmsegmentation and mmmultilabel, so nothing is
compiled or downloaded.
"""

import json
import os
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest
from tools_utils import CPU_CONFIG, REPO, fast_options, run

SKIP_DEPS = ('mmseg', 'mmsegmentation', 'mmmultilabel', '__editable__')


def _shared_site_packages(dest: Path) -> Path:
    """A folder of links to this environment's packages, without mmseg
    and mmmultilabel."""
    dest.mkdir()
    site = Path(sysconfig.get_paths()['purelib'])
    for entry in site.iterdir():
        name = entry.name
        if name.endswith('.pth') or name.startswith(SKIP_DEPS):
            continue
        os.symlink(entry, dest / name)
    return dest


@pytest.fixture(scope='module')
def wheel_env(tmp_path_factory):
    root = tmp_path_factory.mktemp('wheel')
    src = root / 'src'
    shutil.copytree(
        REPO,
        src,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            '.git',
            '.venv',
            'work_dirs',
            'data',
            'build',
            '*.egg-info',
            '__pycache__',
            '.pytest_cache',
            '.ruff_cache',
        ),
    )
    run(
        [
            sys.executable,
            '-m',
            'pip',
            'wheel',
            '--no-deps',
            '--no-build-isolation',
            '-q',
            src,
            '-w',
            root / 'dist',
        ],
        timeout=300,
    )
    wheel = next((root / 'dist').glob('mmmultilabel-*.whl'))
    venv = root / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', venv])
    python = venv / 'bin' / 'python'
    site = Path(
        run(
            [
                python,
                '-c',
                'import sysconfig; ' 'print(sysconfig.get_paths()["purelib"])',
            ]
        ).stdout.strip()
    )
    shared = _shared_site_packages(root / 'shared')
    (site / 'shared-stack.pth').write_text(f'{shared}\n')
    run(
        [
            sys.executable,
            '-m',
            'pip',
            '--python',
            python,
            'install',
            '-q',
            '--no-deps',
            '--no-index',
            wheel,
        ],
        timeout=300,
    )
    return dict(root=root, python=python, site=site, wheel=wheel)


def test_wheel_contains_configs_and_tools(wheel_env):
    import zipfile

    names = zipfile.ZipFile(wheel_env['wheel']).namelist()
    cfg = os.path.basename(CPU_CONFIG)
    assert f'mmmultilabel/.mim/configs/mask2former-attr/{cfg}' in names
    assert 'mmmultilabel/.mim/tools/train.py' in names
    assert 'mmmultilabel/.mim/tools/test.py' in names
    assert 'mmmultilabel/inverseform/__init__.py' in names


def test_metadata_asks_for_ranges_mmcv_apart_mmseg_extra(wheel_env):
    proc = run(
        [
            wheel_env['python'],
            '-c',
            'import json, importlib.metadata as m; '
            'print(json.dumps(m.requires("mmmultilabel")))',
        ]
    )
    requires = json.loads(proc.stdout)
    core = [r for r in requires if 'extra ==' not in r]
    assert any(r.startswith('mmdet') for r in core)
    assert any(r.startswith('mmengine') for r in core)
    # mmcv only as OpenMMLab declares it: the "mim" extra (mminstall.txt)
    mmcv = [r for r in requires if r.startswith('mmcv')]
    assert mmcv and all('extra == "mim"' in r for r in mmcv), requires
    assert not any('==' in r.split(';')[0] for r in core), core
    mmseg = [r for r in requires if r.startswith('mmsegmentation')]
    assert mmseg and all('extra == "mmseg"' in r for r in mmseg)


def test_imports_from_the_wheel_without_mmseg(wheel_env, tmp_path):
    proc = run(
        [
            wheel_env['python'],
            '-c',
            (
                'import importlib.util as u; '
                'assert u.find_spec("mmseg") is None; '
                'import mmmultilabel; print(mmmultilabel.__file__); '
                'import mmmultilabel.inverseform; '
                'from mmdet.registry import MODELS; '
                'print(MODELS.get("InverseFormLoss").__name__)'
            ),
        ],
        cwd=tmp_path,
    )
    assert proc.stdout.startswith(str(wheel_env['site']))
    assert 'InverseFormLoss' in proc.stdout
    pkg = wheel_env['site'] / 'mmmultilabel' / '.mim'
    mmseg_cfg = (
        pkg / 'configs/inverseform/fpn_r18-w32_1xb8-1k_shapes-semseg.py'
    )
    proc = run(
        [wheel_env['python'], pkg / 'tools' / 'train.py', mmseg_cfg],
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert 'Traceback' not in proc.stderr
    assert 'pip install "mmmultilabel[mmseg]"' in proc.stderr


def test_mim_train_and_test_from_the_wheel(wheel_env, shapes_root, tmp_path):
    cfg = os.path.basename(CPU_CONFIG)
    work = tmp_path / 'work'
    opts = fast_options(shapes_root, max_iters=1, interval=1)
    mim = [wheel_env['python'], '-m', 'mim']
    proc = run(
        mim
        + [
            'train',
            'mmmultilabel',
            cfg,
            '--work-dir',
            work,
            '--cfg-options',
            *opts,
        ],
        cwd=tmp_path,
        timeout=300,
    )
    assert str(wheel_env['site'] / 'mmmultilabel' / '.mim') in proc.stdout
    assert (work / 'iter_1.pth').is_file()
    proc = run(
        mim
        + [
            'test',
            'mmmultilabel',
            cfg,
            '--checkpoint',
            work / 'iter_1.pth',
            '--work-dir',
            work,
            '--cfg-options',
            *opts,
        ],
        cwd=tmp_path,
        timeout=300,
    )
    assert 'coco/segm_mAP' in proc.stdout + proc.stderr
