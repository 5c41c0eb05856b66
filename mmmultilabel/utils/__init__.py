from .attributes import (
    UNKNOWN,
    AttributeGroup,
    AttributeSpec,
    AttributeSpecError,
    expand_runs,
)
from .gc_pause import gc_paused
from .stock_config import stock_config, stock_model_cfg

__all__ = [
    'UNKNOWN',
    'AttributeGroup',
    'AttributeSpec',
    'AttributeSpecError',
    'expand_runs',
    'gc_paused',
    'stock_config',
    'stock_model_cfg',
]
