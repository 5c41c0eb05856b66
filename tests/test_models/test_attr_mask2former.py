"""The shrunk attribute Mask2Former through mmdet's detector.

Loss, predict and tensor modes on odd-sized images, and the same model
without attribute groups against mmdet's own Mask2Former.
"""

import copy

import pytest
import torch
from attr_model_utils import ATTRIBUTE_GROUPS, NUM_CLASSES, to_attr_model
from mmdet.registry import MODELS
from mmengine.optim import OptimWrapper

from mmmultilabel.models.utils import attr_logit_channels
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)
BASE_LOSSES = ['loss_cls', 'loss_mask', 'loss_dice']
ATTR_LOSSES = [f'loss_attr_{name}' for name in SPEC.names]
# 2 decoder layers + the prediction before the first one.
PREFIXES = ['', 'd0.', 'd1.']


def run(model, batch, mode):
    data = model.data_preprocessor(copy.deepcopy(batch), mode == 'loss')
    return model(**data, mode=mode)


def test_loss_mode_with_ground_truth(attr_model, make_batch):
    losses = run(attr_model, make_batch(), 'loss')

    assert list(losses) == [
        p + name for p in PREFIXES for name in BASE_LOSSES + ATTR_LOSSES
    ]
    for name, loss in losses.items():
        assert loss.numel() == 1, name
        assert torch.isfinite(loss) and loss > 0, name


def test_empty_ground_truth_gives_zero_attribute_losses_in_graph(
    attr_model, make_batch
):
    losses = run(attr_model, make_batch(num_gts=(0, 0)), 'loss')

    for name, loss in losses.items():
        if 'loss_attr_' in name or 'loss_mask' in name or 'loss_dice' in name:
            assert loss.item() == 0, name
            assert loss.requires_grad, name
        else:
            assert loss.item() > 0, name
    sum(losses.values()).backward()


def test_no_object_weight_trains_attributes_on_empty_images(
    attr_model_cfg, make_batch
):
    attr_model_cfg['panoptic_head']['attr_no_object_weight'] = 0.1
    model = MODELS.build(attr_model_cfg)
    losses = run(model, make_batch(num_gts=(0, 0)), 'loss')
    for name in ATTR_LOSSES:
        assert losses[name] > 0, name


def test_gradients_reach_every_attribute_classifier(attr_model, make_batch):
    losses = run(attr_model, make_batch(), 'loss')
    sum(losses.values()).backward()
    embed = attr_model.panoptic_head.attr_embed
    channels = attr_logit_channels(SPEC)
    assert embed.out_features == sum(channels)
    # The rows of each group's outputs in the weight and bias.
    for param in (embed.weight, embed.bias):
        for group, rows in zip(SPEC, param.grad.split(channels)):
            assert rows.abs().sum(-1).gt(0).all(), group.name


def test_training_mode_returns_only_scalar_losses(attr_model, make_batch):
    """In training mode the model returns losses only, one value each.

    mmdet's own ``loss_mask``/``loss_dice`` have shape (1, ), the others
    shape (); ``train_step`` sums them into ``loss``.
    """
    attr_model.train()
    with torch.no_grad():
        losses = run(attr_model, make_batch(), 'loss')
    assert all('loss' in name for name in losses)
    assert all(torch.is_tensor(v) and v.numel() == 1 for v in losses.values())

    optim_wrapper = OptimWrapper(
        torch.optim.SGD(attr_model.parameters(), lr=1e-3)
    )
    log_vars = attr_model.train_step(make_batch(), optim_wrapper)
    assert set(log_vars) == set(losses) | {'loss'}
    assert all(v.dim() == 0 for v in log_vars.values())


def test_predict_mode_adds_attributes_with_rescale(attr_model, make_batch):
    attr_model.eval()
    batch = make_batch(ori_scale=1.5)
    with torch.no_grad():
        results = run(attr_model, batch, 'predict')

    assert len(results) == 2
    slices = zip(SPEC, SPEC.label_slices.values(), SPEC.score_slices.values())
    for result in results:
        pred = result.pred_instances
        n = len(pred)
        assert n > 0
        assert pred.masks.shape[1:] == result.ori_shape
        assert pred.labels.max() < NUM_CLASSES
        assert pred.attr_labels.dtype == torch.long
        assert pred.attr_labels.shape == (n, SPEC.num_label_columns)
        assert pred.attr_scores.shape == (n, SPEC.num_values)
        assert pred.attr_scores.min() >= 0 and pred.attr_scores.max() <= 1
        for group, label_cols, score_cols in slices:
            labels = pred.attr_labels[:, label_cols]
            scores = pred.attr_scores[:, score_cols]
            if group.multi_label:
                assert torch.equal(labels, (scores >= 0.5).long())
            else:
                # No-object column dropped: values sum below 1.
                assert (scores.sum(-1) < 1).all()
                assert torch.equal(labels[:, 0], scores.argmax(-1))


def test_tensor_mode_returns_class_and_attribute_logits(
    attr_model, make_batch
):
    cls_list, mask_list = run(attr_model, make_batch(), 'tensor')
    assert len(cls_list) == len(mask_list) == len(PREFIXES)
    num_attr_logits = 4 + 3 + 2
    for cls_pred in cls_list:
        assert cls_pred.shape == (2, 10, NUM_CLASSES + 1 + num_attr_logits)


def test_attribute_predictions_follow_the_image(attr_model, make_batch):
    """Attributes come from the per-image queries, not from weights."""
    attr_model.eval()
    same_size = ((75, 75), (75, 75))
    with torch.no_grad():
        cls_pred = run(
            attr_model, make_batch(seed=1, sizes=same_size), 'tensor'
        )[0][-1]
        again = run(attr_model, make_batch(seed=1, sizes=same_size), 'tensor')[
            0
        ][-1]
        results = run(
            attr_model, make_batch(seed=1, sizes=same_size), 'predict'
        )
    # (B, Q, C + 1 + A) -> (B, Q, A)
    attr_logits = cls_pred[..., NUM_CLASSES + 1 :]
    torch.testing.assert_close(attr_logits, again[..., NUM_CLASSES + 1 :])
    assert (attr_logits[0] - attr_logits[1]).abs().max() > 1e-3
    scores = [r.pred_instances.attr_scores for r in results]
    assert not torch.allclose(scores[0], scores[1])


def test_without_attribute_groups_it_is_mmdet_mask2former(
    mask2former_cfg, make_batch
):
    stock = MODELS.build(copy.deepcopy(mask2former_cfg.model))
    ours = MODELS.build(
        to_attr_model(copy.deepcopy(mask2former_cfg.model), None)
    )
    assert type(ours.panoptic_head).__name__ == 'AttrMask2FormerHead'
    ours.load_state_dict(stock.state_dict(), strict=True)
    batch = make_batch(with_attr=False)

    losses = []
    for model in (stock, ours):
        torch.manual_seed(1)
        losses.append(run(model, batch, 'loss'))
    assert list(losses[0]) == list(losses[1])
    for name in losses[0]:
        torch.testing.assert_close(
            losses[0][name], losses[1][name], rtol=0, atol=0
        )

    preds = []
    for model in (stock, ours):
        model.eval()
        with torch.no_grad():
            preds.append(
                [r.pred_instances for r in run(model, batch, 'predict')]
            )
    for theirs, mine in zip(*preds):
        for field in ('labels', 'scores', 'masks', 'bboxes'):
            torch.testing.assert_close(
                getattr(theirs, field), getattr(mine, field), rtol=0, atol=0
            )
        assert mine.attr_labels.shape == (len(mine), 0)


@pytest.mark.parametrize('score_mode', ['class', 'class_attr'])
def test_score_modes_run_through_the_detector(
    attr_model_cfg, make_batch, score_mode
):
    attr_model_cfg['panoptic_fusion_head'].update(
        score_mode=score_mode, attr_unknown_thrs=dict(color=0.5)
    )
    model = MODELS.build(attr_model_cfg).eval()
    with torch.no_grad():
        results = run(model, make_batch(), 'predict')
    pred = results[0].pred_instances
    color = pred.attr_labels[:, 0]
    low = pred.attr_scores[:, :3].max(-1).values < 0.5
    assert torch.equal(color == -1, low | (color == -1))
    assert (color[low] == -1).all()
