from .assigners import AttrBinaryCrossEntropyCost, AttrClassificationCost

__all__ = ['AttrClassificationCost', 'AttrBinaryCrossEntropyCost']
