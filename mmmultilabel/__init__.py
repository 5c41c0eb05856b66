"""mmmultilabel: multi-attribute instance segmentation for OpenMMLab.

Importing the package registers every module into mmdet's registries (scope
``mmdet``) and applies the compatibility layer in
:mod:`mmmultilabel.utils.compat`.
"""

from . import datasets, engine, evaluation, models, visualization  # noqa: F401,I001
from .utils import compat  # noqa: F401  (applies the compatibility layer)
from .version import __version__

__all__ = ['__version__']
