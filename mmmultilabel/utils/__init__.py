from .attributes import (
    UNKNOWN,
    AttributeGroup,
    AttributeSpec,
    AttributeSpecError,
    expand_runs,
)

__all__ = [
    'UNKNOWN',
    'AttributeGroup',
    'AttributeSpec',
    'AttributeSpecError',
    'expand_runs',
]
