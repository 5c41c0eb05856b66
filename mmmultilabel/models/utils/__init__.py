from .attribute_logits import (
    AttrThrs,
    attr_confidence,
    attr_group_thrs,
    attr_logit_channels,
    attr_logits_to_scores,
    attr_predictions,
    build_attr_spec,
    decode_attr_logits,
    decode_attr_scores,
    mark_unknown_attrs,
    split_attr_logits,
    split_class_attr_logits,
)
from .grad_scale import ScaleGradient, scale_grad
from .mask_pooling import (
    NUM_MASK_STATISTICS,
    mask_input_options,
    mask_pooled_features,
    mask_statistics,
)

__all__ = [
    'AttrThrs',
    'build_attr_spec',
    'attr_logit_channels',
    'attr_logits_to_scores',
    'attr_confidence',
    'attr_group_thrs',
    'attr_predictions',
    'decode_attr_logits',
    'decode_attr_scores',
    'mark_unknown_attrs',
    'split_attr_logits',
    'split_class_attr_logits',
    'ScaleGradient',
    'scale_grad',
    'NUM_MASK_STATISTICS',
    'mask_input_options',
    'mask_pooled_features',
    'mask_statistics',
]
