from .attributes import (
    UNKNOWN,
    AttributeGroup,
    AttributeSpec,
    AttributeSpecError,
    expand_runs,
)
from .gc_pause import gc_paused

__all__ = [
    'UNKNOWN',
    'AttributeGroup',
    'AttributeSpec',
    'AttributeSpecError',
    'expand_runs',
    'gc_paused',
]
