from mmmultilabel.utils.errors import (
    AnnotationDefectError,
    AnnotationSyntaxError,
)

from .attr_coco import AttrCocoDataset
from .formats import (
    detect_format,
    read_annotation_file,
    to_canonical,
)
from .labelme import LabelmeSpec, convert_labelme_dir
from .loader import load_attr_coco
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms_all
from .validation import check_attr_coco, validate_attr_coco

__all__ = [
    'AttrCocoDataset',
    'AnnotationDefectError',
    'AnnotationSyntaxError',
    'detect_format',
    'load_attr_coco',
    'read_annotation_file',
    'to_canonical',
    'check_attr_coco',
    'LabelmeSpec',
    'convert_labelme_dir',
    'validate_attr_coco',
] + _transforms_all
