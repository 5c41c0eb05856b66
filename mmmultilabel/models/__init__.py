from .dense_heads import *  # noqa: F401,F403
from .dense_heads import __all__ as _dense_heads_all
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses_all
from .seg_heads import *  # noqa: F401,F403
from .seg_heads import __all__ as _seg_heads_all
from .task_modules import *  # noqa: F401,F403
from .task_modules import __all__ as _task_modules_all

__all__ = _dense_heads_all + _losses_all + _seg_heads_all + _task_modules_all
