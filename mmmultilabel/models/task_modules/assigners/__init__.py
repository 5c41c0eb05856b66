from .attribute_match_cost import (
    AttrBinaryCrossEntropyCost,
    AttrClassificationCost,
)

__all__ = ['AttrClassificationCost', 'AttrBinaryCrossEntropyCost']
