from .aligned_labels import AlignedLabels
from .formatting import AttrAlignmentError, PackAttrDetInputs
from .loading import LoadAttrAnnotations

__all__ = [
    'AlignedLabels',
    'AttrAlignmentError',
    'LoadAttrAnnotations',
    'PackAttrDetInputs',
]
