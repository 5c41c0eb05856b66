"""The errors that input given by a user raises, as one family.

Every error that bad input raises (an annotation, results or ONNX file, a
config value, an image) is an :class:`InputError`; its message names the
file, the entry (line, image or annotation id, result number) and the fix.
Tools catch :class:`InputError` to print the message instead of a
traceback. The subclasses tell the cases apart where callers need to.
"""

import math
from numbers import Real
from typing import Any, Optional, Sequence


class InputError(ValueError):
    """Input that cannot be used; the message says where and how to fix
    it."""


class AnnotationSyntaxError(InputError):
    """An annotation file that is not valid JSON.

    ``str(err)`` is ``FILE:LINE:COL: message`` as compilers print it, so
    editors can jump to the place.

    Args:
        filename (str): Path of the file.
        lineno (int): 1-based line of the error.
        colno (int): 1-based column of the error.
        msg (str): What the parser expected.
    """

    def __init__(
        self, filename: str, lineno: int, colno: int, msg: str
    ) -> None:
        self.filename = filename
        self.lineno = lineno
        self.colno = colno
        self.msg = msg
        super().__init__(f'{filename}:{lineno}:{colno}: {msg}')


class AnnotationDefectError(InputError):
    """An annotation file with semantic defects, all of them listed.

    Args:
        filename (str): Path of the file (``<dict>`` for in-memory data).
        defects (list[str]): One message per defect; each names the image
            or annotation id and the field.
        hint (str, optional): The last line. Defaults to where the
            validator prints the same list.
    """

    def __init__(
        self, filename: str, defects: Sequence[str], hint: Optional[str] = None
    ) -> None:
        self.filename = filename
        self.defects = list(defects)
        lines = '\n'.join(f'  - {d}' for d in self.defects)
        if hint is None:
            hint = (
                'Fix them in the file; `python tools/misc/validate_dataset.py '
                f'{filename}` prints the same list.'
            )
        super().__init__(
            f'{filename}: {len(self.defects)} annotation defect(s):\n{lines}'
            + (f'\n{hint}' if hint else '')
        )


class ResultsError(InputError):
    """A results file that cannot be evaluated or converted; the message
    names the file, the result (1-based ``#n``), its image id and the
    fix."""


class AttributeSpecError(InputError):
    """An attribute value that does not fit the declared groups."""


class ConfigError(InputError):
    """A config value that cannot be used (e.g. an unknown protocol)."""


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite real number (not a bool)."""
    if type(value) is int:  # the common cases, without the ABC check
        return True
    if type(value) is float:
        return math.isfinite(value)
    return (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
