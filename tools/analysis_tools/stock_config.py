"""The stock mmdet counterpart of an attribute Mask2Former config.

Benchmarks and ablations compare the attribute model with mmdet's own
Mask2Former under exactly the same settings: same backbone, decoder, data,
schedule and seed, with mmdet's ``Mask2FormerHead``/``MaskFormerFusionHead``
and ``CocoMetric`` instead of the attribute ones.
"""

import copy
import inspect
import warnings

from mmengine.config import Config

#: Arguments of the attribute heads that mmdet's heads do not take.
ATTR_HEAD_KEYS = (
    'attribute_groups',
    'loss_attr_single',
    'loss_attr_multi',
    'attr_no_object_weight',
    'attr_value_weights',
    'attr_loss_weights',
    'attr_head_layers',
    'check_attr_labels',
    'score_mode',
    'attr_value_thr',
    'attr_unknown_thrs',
)
STOCK_TYPES = dict(
    panoptic_head='Mask2FormerHead',
    panoptic_fusion_head='MaskFormerFusionHead',
)


def stock_model_cfg(model_cfg: dict) -> dict:
    """The same model with mmdet's own heads and no attribute costs.

    Args:
        model_cfg (dict): ``model`` of an attribute Mask2Former config.

    Returns:
        dict: A copy with mmdet's ``Mask2FormerHead`` and
        ``MaskFormerFusionHead`` and the matcher's ``Attr*`` costs removed.

    Raises:
        ValueError: if the model has no ``panoptic_head``/
            ``panoptic_fusion_head`` (not a Mask2Former config).
    """
    cfg = copy.deepcopy(model_cfg)
    for key, stock_type in STOCK_TYPES.items():
        if key not in cfg:
            raise ValueError(
                f'model has no {key}: a stock counterpart exists only for '
                'Mask2Former configs'
            )
        for attr_key in ATTR_HEAD_KEYS:
            cfg[key].pop(attr_key, None)
        cfg[key]['type'] = stock_type
    assigner = cfg.get('train_cfg', {}).get('assigner')
    if assigner and 'match_costs' in assigner:
        assigner['match_costs'] = [
            c
            for c in assigner['match_costs']
            if not c['type'].rsplit('.', 1)[-1].startswith('Attr')
        ]
    return cfg


def _stock_metric(metric_cfg: dict) -> dict:
    """mmdet's ``CocoMetric`` with the arguments it takes."""
    from mmdet.evaluation import CocoMetric

    accepted = inspect.signature(CocoMetric.__init__).parameters
    cfg = {k: v for k, v in metric_cfg.items() if k in accepted}
    dropped = sorted(set(metric_cfg) - set(cfg) - {'type'})
    if dropped:
        warnings.warn(
            f'stock counterpart: CocoMetric takes no {dropped} of '
            f'{metric_cfg.get("type")}; they are left out',
            stacklevel=2,
        )
    cfg['type'] = 'CocoMetric'
    return cfg


def stock_config(cfg: Config) -> Config:
    """A whole config whose model and evaluators are mmdet's stock ones.

    Data, pipelines, schedule, hooks and runtime are kept: the ground-truth
    attributes are loaded and ignored by the stock head. Attribute-only
    hooks (``AttrMatchCostWarmupHook``) are dropped.

    Args:
        cfg (Config): An attribute Mask2Former config.

    Returns:
        Config: The stock counterpart (a new object).
    """
    stock = copy.deepcopy(cfg)
    stock.model = stock_model_cfg(cfg.model)
    for key in ('val_evaluator', 'test_evaluator'):
        evaluator = stock.get(key)
        if isinstance(evaluator, dict) and 'type' in evaluator:
            stock[key] = _stock_metric(evaluator)
        elif isinstance(evaluator, (list, tuple)):
            stock[key] = [_stock_metric(e) for e in evaluator]
    if stock.get('custom_hooks'):
        stock.custom_hooks = [
            h
            for h in stock.custom_hooks
            if h.get('type') != 'AttrMatchCostWarmupHook'
        ]
    return stock
