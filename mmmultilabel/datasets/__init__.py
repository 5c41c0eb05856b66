from mmmultilabel.utils.errors import (
    AnnotationDefectError,
    AnnotationSyntaxError,
)
from mmmultilabel.utils.lazy import lazy_exports

from .attr_coco import AttrCocoDataset
from .formats import (
    detect_format,
    read_annotation_file,
    to_canonical,
)
from .loader import load_attr_coco
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all
from .validation import check_attr_coco, validate_attr_coco

# converters: imported when first used
_LAZY = {'.labelme': ['LabelmeSpec', 'convert_labelme_dir']}
__getattr__, __dir__ = lazy_exports(__name__, globals(), _LAZY)

__all__ = [
    'AttrCocoDataset',
    'AnnotationDefectError',
    'AnnotationSyntaxError',
    'detect_format',
    'load_attr_coco',
    'read_annotation_file',
    'to_canonical',
    'check_attr_coco',
    'validate_attr_coco',
] + _transforms_all
__all__ += _LAZY['.labelme']
