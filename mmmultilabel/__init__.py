"""mmmultilabel: multi-attribute instance segmentation for OpenMMLab.

Importing the package registers every module into mmdet's registries (scope
``mmdet``) and changes nothing else in torch, mmengine or mmdet.
"""

from . import (  # noqa: F401,I001
    datasets,
    deploy,
    engine,
    evaluation,
    models,
    visualization,
)
from .version import __version__

__all__ = ['__version__']
