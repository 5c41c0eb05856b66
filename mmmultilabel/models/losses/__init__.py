from .attr_group_losses import attr_group_losses
from .attribute_losses import (
    AttrBinaryCrossEntropyLoss,
    AttrCrossEntropyLoss,
    AttrFocalLoss,
    attr_binary_cross_entropy_segments,
    attr_cross_entropy,
    attr_sigmoid_focal_loss,
)

__all__ = [
    'AttrCrossEntropyLoss',
    'AttrBinaryCrossEntropyLoss',
    'AttrFocalLoss',
    'attr_cross_entropy',
    'attr_binary_cross_entropy_segments',
    'attr_sigmoid_focal_loss',
    'attr_group_losses',
]
