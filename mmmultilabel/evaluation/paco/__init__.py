"""PACO's object-attribute and category APs, exactly as its evaluation."""

from .ground_truth import PacoGroundTruth, load_paco_results
from .paco_eval import PACOeval, evaluate_paco, paco_summary
from .paco_metric import PacoMetric

__all__ = [
    'PACOeval',
    'PacoGroundTruth',
    'PacoMetric',
    'evaluate_paco',
    'load_paco_results',
    'paco_summary',
]
