from .attr_mask2former_head import AttrMask2FormerHead
from .boundary_attr_mask2former_head import BoundaryAttrMask2FormerHead

__all__ = ['AttrMask2FormerHead', 'BoundaryAttrMask2FormerHead']
