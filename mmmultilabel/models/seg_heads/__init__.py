from .attr_maskformer_fusion_head import AttrMaskFormerFusionHead

__all__ = ['AttrMaskFormerFusionHead']
