from .attribute_logits import (
    attr_logit_channels,
    attr_logits_to_scores,
    split_attr_logits,
)

__all__ = ['attr_logit_channels', 'attr_logits_to_scores', 'split_attr_logits']
