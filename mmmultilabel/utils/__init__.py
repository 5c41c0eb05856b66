from .attributes import (
    UNKNOWN,
    AttributeGroup,
    AttributeSpec,
    AttributeSpecError,
)

__all__ = ['UNKNOWN', 'AttributeGroup', 'AttributeSpec', 'AttributeSpecError']
