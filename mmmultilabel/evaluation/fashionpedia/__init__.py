"""Fashionpedia's AP^{IoU+F1} and AP^{IoU}, exactly as its ``FPEval``."""

from .fashionpedia_eval import FashionpediaEval, evaluate_fashionpedia
from .fashionpedia_metric import FashionpediaMetric

__all__ = ['FashionpediaEval', 'FashionpediaMetric', 'evaluate_fashionpedia']
