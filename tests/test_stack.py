"""The pinned stack works on this machine: mmdet's own Mask2Former config,
shrunk for CPU, trains one step and predicts on odd-sized images."""

import torch
from mmdet.registry import MODELS
from mmdet.testing import demo_mm_inputs


def _build(cfg):
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def test_stock_mask2former_loss_backward(mask2former_cfg):
    model = _build(mask2former_cfg)
    model.train()
    packed = demo_mm_inputs(
        2,
        [(3, 67, 93), (3, 81, 59)],
        num_items=[2, 3],
        num_classes=3,
        with_mask=True,
    )
    data = model.data_preprocessor(packed, True)
    losses = model(**data, mode='loss')
    assert 'loss_cls' in losses and 'd0.loss_mask' in losses
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_stock_mask2former_predict(mask2former_cfg):
    model = _build(mask2former_cfg)
    model.eval()
    packed = demo_mm_inputs(
        2, [(3, 67, 93), (3, 81, 59)], num_classes=3, with_mask=True
    )
    data = model.data_preprocessor(packed, False)
    with torch.no_grad():
        results = model(**data, mode='predict')
    assert len(results) == 2
    for result, (h, w) in zip(results, [(67, 93), (81, 59)]):
        pred = result.pred_instances
        assert pred.masks.shape[-2:] == (h, w)
        assert len(pred.scores) == len(pred.labels) == len(pred.bboxes)
