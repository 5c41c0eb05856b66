from .attribute_losses import (
    AttrBinaryCrossEntropyLoss,
    AttrCrossEntropyLoss,
    AttrFocalLoss,
    attr_cross_entropy,
    attr_sigmoid_focal_loss,
)
from .task_uncertainty import UncertaintyTaskWeights

__all__ = [
    'AttrCrossEntropyLoss',
    'AttrBinaryCrossEntropyLoss',
    'AttrFocalLoss',
    'attr_cross_entropy',
    'attr_sigmoid_focal_loss',
    'UncertaintyTaskWeights',
]
