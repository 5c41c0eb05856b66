"""mmmultilabel: multi-attribute instance segmentation for OpenMMLab.

Importing the package registers every module into the OpenMMLab registries
(mmdet's, scope ``mmdet``; the runner and its model wrapper in mmengine's
root registries) and changes nothing else in torch, mmengine or mmdet.
"""

from . import datasets, engine, evaluation, models, visualization  # noqa: F401,I001
from .version import __version__

__all__ = ['__version__']
