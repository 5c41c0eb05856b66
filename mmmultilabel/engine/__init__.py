from .hooks import *  # noqa: F401,F403
from .hooks import __all__ as _hooks_all

__all__ = _hooks_all
