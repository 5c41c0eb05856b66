"""mmmultilabel: multi-attribute instance segmentation for OpenMMLab.

Importing the package registers every module into mmdet's registries (scope
``mmdet``) and changes nothing else in torch, mmengine or mmdet. The
benchmark protocols' metrics and the ONNX Runtime model are registered when
their registry is first searched (:mod:`mmmultilabel.registry`); the
analysis functions, :mod:`mmmultilabel.apis` and :mod:`mmmultilabel.deploy`
are imported when first used.
"""

from . import (  # noqa: F401,I001
    registry,
    datasets,
    engine,
    evaluation,
    models,
    visualization,
)
from .utils.lazy import lazy_exports
from .version import __version__

__getattr__, __dir__ = lazy_exports(
    __name__, globals(), {'.apis': ['apis'], '.deploy': ['deploy']}
)

__all__ = ['__version__']
