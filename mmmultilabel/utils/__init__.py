from .attributes import (
    UNKNOWN,
    AttributeGroup,
    AttributeSpec,
    expand_runs,
)
from .errors import (
    AnnotationDefectError,
    AnnotationSyntaxError,
    AttributeSpecError,
    ConfigError,
    InputError,
    ResultsError,
    is_number,
)
from .gc_pause import gc_paused
from .lazy import lazy_exports

__all__ = [
    'UNKNOWN',
    'AttributeGroup',
    'AttributeSpec',
    'AttributeSpecError',
    'expand_runs',
    'gc_paused',
    'lazy_exports',
    'AnnotationDefectError',
    'AnnotationSyntaxError',
    'ConfigError',
    'InputError',
    'ResultsError',
    'is_number',
]
