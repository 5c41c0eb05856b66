"""What tools/train.py and tools/test.py share: reading the config and
turning bad input into one message (file, id and fix) instead of a
traceback."""

import contextlib
import os.path as osp
import sys
from typing import Iterator, Optional

from mmengine.config import Config

from mmmultilabel.utils import InputError

#: Errors whose message already names the file, the id and the fix (a
#: refused checkpoint global is one too).
USER_ERRORS = (InputError,)


def add_safe_globals_argument(parser) -> None:
    """``--safe-globals NAME ...``, appended to the config's
    ``checkpoint_safe_globals`` by ``build_runner``."""
    parser.add_argument(
        '--safe-globals',
        nargs='+',
        metavar='NAME',
        help='full names of further Python globals a checkpoint you trust '
        'may hold (appended to checkpoint_safe_globals); checkpoints load '
        'with torch.load(weights_only=True)',
    )


def load_config(
    path: str,
    launcher: str,
    cfg_options: Optional[dict],
    work_dir: Optional[str],
) -> Config:
    """The config with the command line's launcher, options and work dir
    (default ``./work_dirs/<config name>``); exits with a message when the
    file is missing or names a package that is not installed."""
    if not osp.isfile(path):
        sys.exit(f'error: config file not found: {path}')
    try:
        cfg = Config.fromfile(path)
    except ModuleNotFoundError as err:
        hint = (
            ' (the InverseForm mmseg configs need it: pip install '
            '"mmmultilabel[mmseg]")'
            if 'mmseg' in str(err)
            else ''
        )
        sys.exit(f'error: {path}: {err}{hint}')
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join(
            './work_dirs', osp.splitext(osp.basename(path))[0]
        )
    return cfg


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Exit with one ``error:`` line for bad input met while running."""
    try:
        yield
    except USER_ERRORS as err:
        sys.exit(f'error: {err}')
    except FileNotFoundError as err:
        sys.exit(
            f'error: file not found: {err.filename or err}; check the paths '
            'of the config (data_root, ann_file, data_prefix) or '
            '--cfg-options'
        )
