"""How well a trained IF-Net recovers warps of held-out boundaries."""

from typing import Dict, List, Optional, Sequence

import torch
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric


@METRICS.register_module()
class InverseFormMetric(BaseMetric):
    """Regression error and distances of :class:`InverseFormRegressor`.

    Reads the predictions of ``InverseFormRegressor`` on an
    ``InverseFormPairDataset`` in test mode; the warp names come from
    ``dataset_meta['warps']``. Only pairs whose target tile has boundary
    count. Metrics:

    * ``rmse``: root mean squared error of the regressed ``log(A)`` of the
      ``'random'`` warps (all six entries); ``true_mean_norm`` the mean
      ``||log A||_F`` of those warps, for scale.
    * for every probe (``shift_{t}px``, ``scale_{s}``): the mean distance
      ``||log A||_F`` the network gives, ``{probe}_true`` the exact value
      (``2 t / S`` for a shift, ``sqrt(2) |log s|`` for a scaling), and for
      the attacked probes ``{probe}_attacked``, the distance left after the
      model's attack.

    Args:
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to ``'ifnet'``.
    """

    default_prefix: Optional[str] = 'ifnet'

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep each sample's generators, distances and ``has_gt`` (K, )."""
        for sample in data_samples:
            self.results.append({k: v.cpu() for k, v in sample.items()})

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Reduce the per-sample records over the split.

        Args:
            results (list[dict]): Records of :meth:`process`, each field of
                shape (K, ...) for the K warps of ``dataset_meta['warps']``.

        Returns:
            dict[str, float]: See the class docstring.
        """
        warps = list(self.dataset_meta['warps'])
        # N x (K, ...) -> (N, K, ...)
        fields = {k: torch.stack([r[k] for r in results]) for k in results[0]}
        if fields['has_gt'].shape[1] != len(warps):
            raise ValueError(
                f'InverseFormMetric: the predictions have '
                f'{fields["has_gt"].shape[1]} warps per sample, but '
                f"dataset_meta['warps'] names {len(warps)}: {warps}"
            )
        metrics = {}
        for k, name in enumerate(warps):
            has_gt = fields['has_gt'][:, k]
            found = fields['pred_generators'][has_gt, k]
            truth = fields['gt_generators'][has_gt, k]
            true_norm = truth.flatten(1).norm(dim=1).mean()
            if name == 'random':
                metrics['rmse'] = float((found - truth).square().mean().sqrt())
                metrics['true_mean_norm'] = float(true_norm)
                continue
            metrics[name] = float(fields['distances'][has_gt, k].mean())
            metrics[name + '_true'] = float(true_norm)
            attacked = fields['attacked'][has_gt, k]
            if not attacked.isnan().all():
                metrics[name + '_attacked'] = float(attacked.mean())
        return metrics
