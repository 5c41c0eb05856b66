from .attributes import (
    UNKNOWN,
    AttributeGroup,
    AttributeSpec,
    AttributeSpecError,
    expand_runs,
)
from .stock_config import stock_config, stock_model_cfg

__all__ = [
    'UNKNOWN',
    'AttributeGroup',
    'AttributeSpec',
    'AttributeSpecError',
    'expand_runs',
    'stock_config',
    'stock_model_cfg',
]
