from .inferencer import AttrInferencer, UnreadableImageError

__all__ = ['AttrInferencer', 'UnreadableImageError']
