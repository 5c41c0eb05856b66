from .attr_mask2former_head import AttrMask2FormerHead

__all__ = ['AttrMask2FormerHead']
