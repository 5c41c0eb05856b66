"""CVAT for images 1.1: read exports as attribute COCO, write predictions
back as CVAT annotations."""

from .export import CvatExport
from .labels import CvatError, CvatLabels, read_labels
from .mask_rle import MaskRleError, decode_mask, encode_mask
from .reader import CvatOptions, CvatResult, read_cvat
from .writer import write_cvat_xml

__all__ = [
    'CvatError',
    'CvatExport',
    'CvatLabels',
    'CvatOptions',
    'CvatResult',
    'MaskRleError',
    'decode_mask',
    'encode_mask',
    'read_cvat',
    'read_labels',
    'write_cvat_xml',
]
