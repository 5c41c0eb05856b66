from .local_visualizer import AttrDetLocalVisualizer, format_attributes

__all__ = ['AttrDetLocalVisualizer', 'format_attributes']
