"""Load mmengine checkpoints with PyTorch's ``weights_only`` unpickler.

PyTorch >= 2.6 loads checkpoints with ``weights_only=True``: the unpickler
refuses every Python global that is not allow-listed, so that a checkpoint
cannot run code. mmengine 0.10.7 saves globals that are not on PyTorch's
default list (its ``HistoryBuffer`` in the message hub, numpy arrays and
scalars in the runtime info), so its own checkpoints are refused on
``resume`` and ``load_from``.

:func:`checkpoint_safe_globals` allows exactly those globals, for the
duration of one load (``torch.serialization.safe_globals``; nothing is
added to PyTorch's global allow-list). A checkpoint that needs anything
else is refused with :class:`CheckpointGlobalError`, which names the
global and how to allow it for a file the user trusts.
"""

import contextlib
import importlib
import pickle
import re
from typing import Any, Callable, Iterator, List, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from .errors import InputError

#: ``getattr(HistoryBuffer, name)`` is how pickle stores the statistics
#: methods that every ``HistoryBuffer`` keeps in ``_statistics_methods``.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')

SafeGlobal = Union[Callable, Tuple[Callable, str]]


class CheckpointGlobalError(InputError, pickle.UnpicklingError):
    """A checkpoint that needs a global outside the allow-list.

    Args:
        filename (str): The checkpoint.
        name (str): Full name of the refused global, e.g. ``posix.system``.
        detail (str): PyTorch's own message.
    """

    def __init__(self, filename: str, name: str, detail: str) -> None:
        self.filename = filename
        self.name = name
        super().__init__(
            f'{filename}: refused to load the checkpoint: it needs the '
            f'Python global `{name}`, which mmengine checkpoints do not '
            'use, and loading it could run code stored in the file. If '
            'you trust this file, allow the global explicitly: add '
            f"`checkpoint_safe_globals = ['{name}']` to the config, or "
            f'pass `--safe-globals {name}` to tools/train.py / '
            f'tools/test.py.\n(PyTorch: {detail})'
        )


def _history_buffer_getattr(obj: Any, name: Any) -> Any:
    """``getattr`` restricted to what mmengine checkpoints call it for.

    Pickle stores ``HistoryBuffer.min`` and its siblings as
    ``getattr(HistoryBuffer, 'min')``. Allowing ``builtins.getattr`` itself
    would let a checkpoint reach any attribute of any allowed object; this
    stand-in answers only those calls.
    """
    allowed = set(_HISTORY_BUFFER_METHODS) | set(
        HistoryBuffer._statistics_methods
    )
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refused getattr({obj!r}, {name!r}): only HistoryBuffer '
        'statistics methods may be looked up while loading a checkpoint'
    )


def _numpy_globals() -> List[SafeGlobal]:
    """numpy array, dtype and scalar reconstructors, under the names that
    numpy 1.x (``numpy.core``) and 2.x (``numpy._core``) pickle them."""
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    found: List[SafeGlobal] = [np.ndarray, np.dtype]
    for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
        found.append((reconstruct, f'{module}._reconstruct'))
        found.append((scalar, f'{module}.scalar'))
    for code in '?bBhHiIlLqQefdg':
        found.append(type(np.dtype(code)))
    return found


def mmengine_checkpoint_globals() -> List[SafeGlobal]:
    """The globals that mmengine's checkpoints hold beyond PyTorch's
    defaults: ``HistoryBuffer`` (message hub), the restricted ``getattr``
    for its statistics methods, and numpy arrays, dtypes and scalars.

    Returns:
        list: Items for ``torch.serialization.safe_globals``.
    """
    return [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        (_history_buffer_getattr, '__builtin__.getattr'),
    ] + _numpy_globals()


def resolve_global(name: str) -> Any:
    """Import a global from its full name, e.g. ``fractions.Fraction``.

    Raises:
        ValueError: if the name does not resolve, naming it.
    """
    parts = name.split('.')
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module('.'.join(parts[:split]))
        except ImportError:
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError:
            break
        return obj
    raise ValueError(
        f'checkpoint_safe_globals: cannot import {name!r}; give the full '
        'name as the refused-global message prints it, e.g. '
        '"fractions.Fraction"'
    )


_REFUSED = re.compile(
    r'(?:Unsupported global: GLOBAL|unrecognized function) ([\w.<>]+)'
)


@contextlib.contextmanager
def checkpoint_safe_globals(
    filename: str = '<checkpoint>', extra: Sequence[str] = ()
) -> Iterator[None]:
    """Allow mmengine's checkpoint globals (and ``extra``) for one load.

    Args:
        filename (str): Checkpoint being loaded, for error messages.
        extra (Sequence[str]): Full names of further globals the user
            trusts, from the config's ``checkpoint_safe_globals``.

    Raises:
        CheckpointGlobalError: if the checkpoint needs another global.
    """
    allowed = mmengine_checkpoint_globals() + [
        (resolve_global(name), name) for name in extra
    ]
    try:
        with torch.serialization.safe_globals(allowed):
            yield
    except pickle.UnpicklingError as err:
        if isinstance(err, CheckpointGlobalError):
            raise
        match = _REFUSED.search(str(err))
        if match is None:
            raise
        line = next(
            (ln for ln in str(err).splitlines() if match.group(1) in ln), ''
        )
        raise CheckpointGlobalError(
            str(filename), match.group(1), line.strip()
        ) from None
