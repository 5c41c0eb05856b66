"""Label Studio: its JSON export to attribute COCO, and predictions back
as pre-annotated tasks with their labelling config."""

from .brush import BrushRLEError, mask_to_rle, rle_to_mask
from .config import LabelConfig, write_label_config
from .reader import LabelStudioError, LabelStudioResult, convert_label_studio
from .writer import record_to_task, write_label_studio

__all__ = [
    'BrushRLEError',
    'LabelConfig',
    'LabelStudioError',
    'LabelStudioResult',
    'convert_label_studio',
    'mask_to_rle',
    'record_to_task',
    'rle_to_mask',
    'write_label_config',
    'write_label_studio',
]
