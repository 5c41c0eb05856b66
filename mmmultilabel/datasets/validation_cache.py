"""The record of annotation files that passed validation.

Validating a large file costs as much as reading it, and a training run
reads the same file again in every start, rank and DataLoader worker that
rebuilds the data set. A file that passed is recorded here, keyed by the
SHA-256 of its text and of the options that change what the validator
finds (the config's ``attribute_groups``), and by
:data:`~.validation.VALIDATOR_VERSION`; a later
load of the same text skips the full validation and shows the recorded
warnings again. Only the fact "this text passed, with these warnings" is
stored, never the data; a file with defects is never recorded, so it is
validated (and fails) on every load.

The record lives in ``$MMMULTILABEL_CACHE_DIR``, else
``$XDG_CACHE_HOME/mmmultilabel``, else ``~/.cache/mmmultilabel``, in the
sub-folder ``validated`` (one small JSON file per entry); deleting the
folder clears it. A folder that cannot be written costs only the time: the
file is validated as if it were new, with one warning per process.
"""

import hashlib
import json
import os
import os.path as osp
import tempfile
from logging import WARNING
from typing import List, Mapping, Optional

from mmengine.logging import print_log

from .validation import VALIDATOR_VERSION

#: Environment variable naming the cache folder.
CACHE_DIR_ENV = 'MMMULTILABEL_CACHE_DIR'

_warned_unwritable = False


def cache_dir() -> str:
    """The folder of the validation record (see the module docstring)."""
    root = os.environ.get(CACHE_DIR_ENV)
    if not root:
        xdg = os.environ.get('XDG_CACHE_HOME') or osp.join(
            osp.expanduser('~'), '.cache'
        )
        root = osp.join(xdg, 'mmmultilabel')
    return osp.join(root, 'validated')


def entry_key(text: str, options: Mapping) -> str:
    """Key of the record of the annotation file whose JSON text is ``text``,
    validated with ``options`` (the arguments that change what the
    validator finds, e.g. the config's ``attribute_groups``): the SHA-256
    of both and the validator's version."""
    digest = hashlib.sha256(text.encode('utf-8', 'surrogatepass'))
    digest.update(json.dumps(options, sort_keys=True, default=repr).encode())
    return f'{digest.hexdigest()}-v{VALIDATOR_VERSION}'


def _entry_path(key: str) -> str:
    return osp.join(cache_dir(), f'{key}.json')


def lookup(key: str) -> Optional[List[str]]:
    """The warnings recorded for ``key``, or None if it is not recorded
    (or its entry cannot be read: the file is then validated again)."""
    try:
        with open(_entry_path(key), encoding='utf-8') as f:
            entry = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get('key') != key:
        return None
    warnings = entry.get('warnings')
    if not isinstance(warnings, list):
        return None
    return [str(w) for w in warnings]


def record(key: str, source: str, warnings: List[str]) -> None:
    """Record that the file of ``key`` passed validation with ``warnings``.

    The entry is written to a temporary file and moved into place, so that
    ranks and workers recording the same file at once never leave a
    half-written entry. A folder that cannot be written is reported once
    per process and otherwise ignored.

    Args:
        key (str): From :func:`entry_key`.
        source (str): The file's name, kept in the entry for whoever looks.
        warnings (list[str]): The validator's warnings for the file.
    """
    global _warned_unwritable
    folder = cache_dir()
    entry = dict(key=key, source=source, warnings=list(warnings))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=key, suffix='.tmp')
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                json.dump(entry, f)
            os.replace(tmp, _entry_path(key))
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as err:
        if not _warned_unwritable:
            _warned_unwritable = True
            print_log(
                f'cannot record validated annotation files in {folder} '
                f'({err}); each load validates its file in full. Set '
                f'{CACHE_DIR_ENV} to a writable folder to skip that.',
                logger='current',
                level=WARNING,
            )
