from .attribute_logits import (
    attr_logit_channels,
    attr_logits_to_scores,
    build_attr_spec,
    split_attr_logits,
)

__all__ = [
    'build_attr_spec',
    'attr_logit_channels',
    'attr_logits_to_scores',
    'split_attr_logits',
]
