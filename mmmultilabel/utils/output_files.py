"""What the converters share: refuse to overwrite, print, write JSON.

Each converter prints errors as ``error: ...`` and warnings as
``warning: ...`` on stderr, refuses an output that exists unless given
``--force``, and writes a JSON file whole or not at all (to ``<path>.tmp``,
then renamed).
"""

import json
import os
import os.path as osp
import sys
from typing import Iterable, Optional, Sequence


def print_error(message: str) -> int:
    """Print ``error: message`` on stderr; return the exit status 1."""
    print(f'error: {message}', file=sys.stderr)
    return 1


def print_warnings(warnings: Iterable[str]) -> None:
    """Print each warning as ``warning: ...`` on stderr."""
    for warning in warnings:
        print(f'warning: {warning}', file=sys.stderr)


def refuse_defects(
    defects: Sequence[str], num_sources: int, unit: str, skip_invalid: bool
) -> Optional[int]:
    """Print every defect on stderr; unless ``skip_invalid``, refuse to
    write anything when there is one.

    Args:
        defects (Sequence[str]): The defects, each naming its place.
        num_sources (int): How many sources (files, tasks) have defects.
        unit (str): What a source is, e.g. ``'file'`` or ``'task'``.
        skip_invalid (bool): The sources with defects are left out.

    Returns:
        int, optional: The exit status 1 when refused, else None.
    """
    for defect in defects:
        print(defect, file=sys.stderr)
    if not defects or skip_invalid:
        return None
    print(
        f'error: {len(defects)} defect(s) in {num_sources} {unit}(s); '
        'nothing written. Fix them or pass --skip-invalid to leave those '
        f'{unit}s out.',
        file=sys.stderr,
    )
    return 1


def refuse_overwrite(paths: Iterable[str], force: bool) -> Optional[int]:
    """Print an error naming the first of ``paths`` that exists, unless
    ``force``.

    Returns:
        int, optional: The exit status 1 when refused, else None.
    """
    there = [] if force else [p for p in paths if osp.exists(p)]
    if there:
        return print_error(f'{there[0]} exists; pass --force to overwrite it')
    return None


def write_json(data: dict, path: str) -> None:
    """Write ``data`` to ``path`` whole (its folder made if needed)."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(data, f)
    os.replace(tmp, path)
