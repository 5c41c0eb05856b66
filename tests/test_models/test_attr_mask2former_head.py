"""AttrMask2FormerHead: targets, matching, ground truth and config checks."""

import copy
import json
from unittest import mock

import pytest
import torch
from attr_model_utils import NUM_CLASSES
from mmdet.registry import MODELS
from mmdet.structures.mask import BitmapMasks
from mmengine.structures import InstanceData, PixelData

from mmmultilabel.models.task_modules.assigners.attribute_match_cost import (
    AttrGroupsCost,
)
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

NUM_QUERIES = 10
# Attribute logits per query: color 3 + 1, size 2 + 1, pattern 2.
NUM_ATTR_LOGITS = 9
# Target row of an unmatched query: no-object slots, no pattern.
NO_OBJECT_ROW = [3, 2, 0, 0]


def build_head(model_cfg, **overrides):
    cfg = copy.deepcopy(model_cfg['panoptic_head'])
    cfg.update(
        train_cfg=model_cfg['train_cfg'], test_cfg=model_cfg['test_cfg']
    )
    cfg.update(overrides)
    return MODELS.build(cfg)


def two_instances(h=64, w=64):
    """Ground truth: two rectangles, and the mask logits that fit each."""
    masks = torch.zeros(2, h, w, dtype=torch.long)
    masks[0, 4:30, 4:40] = 1
    masks[1, 34:60, 20:60] = 1
    return masks


def crafted_predictions(masks, queries, classes, attr_logits=None):
    """Predictions where ``queries[i]`` fits instance ``i`` (mask, class)."""
    cls_score = torch.zeros(NUM_QUERIES, NUM_CLASSES + 1 + NUM_ATTR_LOGITS)
    mask_pred = torch.full((NUM_QUERIES, 16, 16), -10.0)
    # (n, 64, 64) -> (n, 16, 16)
    small = masks[:, ::4, ::4]
    for i, (q, c) in enumerate(zip(queries, classes)):
        cls_score[q, c] = 10.0
        mask_pred[q][small[i] > 0] = 10.0
        if attr_logits is not None:
            cls_score[q, NUM_CLASSES + 1 :] = attr_logits[i]
    return cls_score, mask_pred


def test_matched_query_attribute_target_is_its_ground_truth(attr_model_cfg):
    head = build_head(attr_model_cfg)
    masks = two_instances()
    gt_attr = torch.tensor([[2, 0, 1, 0], [-1, 1, 0, 1]])
    gt = InstanceData(
        labels=torch.tensor([1, 2]), masks=masks, attr_labels=gt_attr
    )
    cls_score, mask_pred = crafted_predictions(masks, [3, 7], [1, 2])

    targets = head._get_targets_single(cls_score, mask_pred, gt, {})

    labels, pos_inds, gt_inds = targets[0], targets[4], targets[7]
    assert sorted(pos_inds.tolist()) == [3, 7]
    assert labels[3] == 1 and labels[7] == 2
    attr_targets, attr_weights = attr_targets_of(head, [gt_inds], [gt])
    assert attr_targets.shape == (NUM_QUERIES, 4)
    assert attr_targets[3].tolist() == gt_attr[0].tolist()
    # Unknown stays unknown: the loss ignores it.
    assert attr_targets[7].tolist() == gt_attr[1].tolist()
    for q in set(range(NUM_QUERIES)) - {3, 7}:
        assert attr_targets[q].tolist() == NO_OBJECT_ROW
    expected_weights = torch.zeros(NUM_QUERIES)
    expected_weights[[3, 7]] = 1.0
    torch.testing.assert_close(attr_weights, expected_weights)


def attr_targets_of(head, gt_inds_list, gts):
    """Attribute targets (Q, D) and weights (Q, ) of the last image."""
    gts = head.preprocess_gt(
        [
            InstanceData(
                labels=gt.labels,
                masks=BitmapMasks(gt.masks.numpy(), *gt.masks.shape[1:]),
                **(
                    {'attr_labels': gt.attr_labels}
                    if 'attr_labels' in gt
                    else {}
                ),
            )
            for gt in gts
        ],
        [None] * len(gts),
    )
    attr_targets, attr_weights = head._attr_targets(gt_inds_list, gts)
    return attr_targets[-1], attr_weights[-1]


def test_unmatched_queries_get_the_no_object_weight(attr_model_cfg):
    head = build_head(attr_model_cfg, attr_no_object_weight=0.25)
    masks = two_instances()
    gt = InstanceData(labels=torch.tensor([1, 2]), masks=masks)
    cls_score, mask_pred = crafted_predictions(masks, [3, 7], [1, 2])

    gt_inds = head._get_targets_single(cls_score, mask_pred, gt, {})[7]
    attr_targets, attr_weights = attr_targets_of(head, [gt_inds], [gt])

    # No attr_labels in the ground truth: every attribute is unknown.
    assert attr_targets[3].tolist() == [-1, -1, -1, -1]
    assert attr_targets[0].tolist() == NO_OBJECT_ROW
    assert attr_weights[0] == 0.25 and attr_weights[3] == 1.0


def test_attribute_targets_of_a_batch_index_each_image(attr_model_cfg):
    """Ground truth rows of the second image are not taken from the first."""
    head = build_head(attr_model_cfg)
    masks = two_instances()
    first = InstanceData(
        labels=torch.tensor([1, 2]),
        masks=masks,
        attr_labels=torch.tensor([[2, 0, 1, 0], [0, 1, 0, 1]]),
    )
    second = InstanceData(
        labels=torch.tensor([0]),
        masks=masks[:1],
        attr_labels=torch.tensor([[1, 1, 1, 1]]),
    )
    gt_inds = torch.zeros(2, NUM_QUERIES, dtype=torch.long)
    gt_inds[0, 5], gt_inds[0, 2], gt_inds[1, 2] = 2, 1, 1

    attr_targets, _ = attr_targets_of(head, list(gt_inds), [first, second])

    assert attr_targets[2].tolist() == [1, 1, 1, 1]
    assert attr_targets[5].tolist() == NO_OBJECT_ROW


def told_apart_by_attributes():
    """Two instances alike in class and mask, and predictions where query 3
    says the attributes of the second, query 7 those of the first."""
    masks = two_instances()
    masks[1] = masks[0]
    gt = InstanceData(
        labels=torch.tensor([1, 1]),
        masks=masks,
        attr_labels=torch.tensor([[0, 0, 1, 0], [1, 1, 0, 1]]),
    )
    says_second = [0.0, 5.0, 0.0, 0.0, 0.0, 5.0, 0.0, -5.0, 5.0]
    says_first = [5.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 5.0, -5.0]
    cls_score, mask_pred = crafted_predictions(
        masks, [3, 7], [1, 1], torch.tensor([says_second, says_first])
    )
    return gt, cls_score, mask_pred


def test_matching_sees_the_attributes(attr_model_cfg):
    """Two instances alike in class and mask, told apart by attributes."""
    head = build_head(attr_model_cfg)
    gt, cls_score, mask_pred = told_apart_by_attributes()

    gt_inds = head._get_targets_single(cls_score, mask_pred, gt, {})[7]

    # Query 3 is matched to the second instance, query 7 to the first.
    assert gt_inds[3] == 2 and gt_inds[7] == 1


def test_precomputed_cost_features_match_alike(attr_model_cfg):
    """The path of training: cost features from the batch and preprocess_gt.

    The head appends the attribute costs' query features to the logits and
    preprocess_gt attaches the ground truth features; the matching must be
    the one the costs give from logits and labels.
    """
    head = build_head(attr_model_cfg)
    gt, cls_score, mask_pred = told_apart_by_attributes()
    (prepared,) = head.preprocess_gt(
        [
            InstanceData(
                labels=gt.labels,
                masks=BitmapMasks(gt.masks.numpy(), 64, 64),
                attr_labels=gt.attr_labels,
            )
        ],
        [None],
    )
    attr_logits = head._split_logits(cls_score)[1]
    features = [
        cost.pred_features(attr_logits, head.attr_spec)
        for cost in head._attr_costs
    ]
    assert [f.shape[-1] for f in features] == head._attr_cost_widths
    assert all(cost.feature_field in prepared for cost in head._attr_costs)

    with mock.patch.object(
        AttrGroupsCost,
        'pred_features',
        side_effect=AssertionError('features recomputed'),
    ):
        gt_inds = head._get_targets_single(
            torch.cat([cls_score] + features, dim=-1), mask_pred, prepared, {}
        )[7]

    assert gt_inds[3] == 2 and gt_inds[7] == 1


def test_preprocess_gt_keeps_attr_labels(attr_model_cfg):
    head = build_head(attr_model_cfg)
    masks = BitmapMasks(two_instances().numpy(), 64, 64)
    with_attr = InstanceData(
        labels=torch.tensor([0, 1]),
        masks=masks,
        attr_labels=torch.tensor([[2, 1, 0, 1], [-1, -1, -1, -1]]),
    )
    without_attr = InstanceData(labels=torch.tensor([2]), masks=masks[:1])

    out = head.preprocess_gt([with_attr, without_attr], [None, None])

    assert out[0].attr_labels.tolist() == with_attr.attr_labels.tolist()
    assert out[1].attr_labels.tolist() == [[-1, -1, -1, -1]]
    assert out[1].attr_labels.dtype == torch.long


def test_preprocess_gt_gives_stuff_segments_unknown_attributes(
    attr_model_cfg,
):
    head = build_head(
        attr_model_cfg,
        num_stuff_classes=2,
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=2.0,
            reduction='mean',
            class_weight=[1.0] * (NUM_CLASSES + 2) + [0.1],
        ),
    )
    masks = BitmapMasks(two_instances().numpy(), 64, 64)
    gt = InstanceData(
        labels=torch.tensor([0, 1]),
        masks=masks,
        attr_labels=torch.tensor([[2, 1, 0, 1], [0, 0, 1, 1]]),
    )
    sem_seg = torch.full((1, 64, 64), NUM_CLASSES)  # one stuff class
    sem_seg[0, :10] = NUM_CLASSES + 1  # and another

    (out,) = head.preprocess_gt([gt], [PixelData(sem_seg=sem_seg)])

    assert len(out) == 4
    assert out.attr_labels[:2].tolist() == gt.attr_labels.tolist()
    assert (out.attr_labels[2:] == -1).all()


@pytest.mark.parametrize(
    'attr_labels, message',
    [
        (torch.zeros(2, 3, dtype=torch.long), r'shape \(2, 3\)'),
        (torch.tensor([[3, 0, 0, 0], [0, 0, 0, 0]]), 'group "color"'),
        (torch.tensor([[0, 0, 2, 0], [0, 0, 0, 0]]), 'group "pattern"'),
        (torch.zeros(2, 4), 'integers'),
    ],
)
def test_preprocess_gt_rejects_bad_attr_labels(
    attr_model_cfg, attr_labels, message
):
    head = build_head(attr_model_cfg)
    gt = InstanceData(
        labels=torch.tensor([0, 1]),
        masks=BitmapMasks(two_instances().numpy(), 64, 64),
        attr_labels=attr_labels,
    )
    with pytest.raises(ValueError, match=message):
        head.preprocess_gt([gt], [None])


def test_group_weights_reach_the_losses(attr_model_cfg):
    head = build_head(
        attr_model_cfg,
        attr_value_weights=dict(color=[1.0, 2.0, 3.0], pattern=[0.5, 1.0]),
        attr_loss_weights=dict(size=0.5),
    )
    color, size, pattern = head.loss_attrs
    assert color.class_weight == [1.0, 2.0, 3.0, 1.0]
    assert pattern.class_weight == [0.5, 1.0]
    assert size.loss_weight == 0.5 * color.loss_weight


def test_losses_skip_their_target_checks_unless_configured(attr_model_cfg):
    """The head checks the labels once per batch; its losses do not check
    again per group and layer, unless the config asks for it."""
    head = build_head(attr_model_cfg)
    assert [loss.check_targets for loss in head.loss_attrs] == [False] * 3
    head = build_head(
        attr_model_cfg,
        loss_attr_multi=dict(
            type='AttrBinaryCrossEntropyLoss', check_targets=True
        ),
    )
    assert [loss.check_targets for loss in head.loss_attrs] == [
        False,
        False,
        True,
    ]


def test_check_attr_labels_false_skips_the_value_check(attr_model_cfg):
    gt = InstanceData(
        labels=torch.tensor([0, 1]),
        masks=BitmapMasks(two_instances().numpy(), 64, 64),
        attr_labels=torch.tensor([[3, 0, 0, 0], [0, 0, 0, 0]]),
    )
    head = build_head(attr_model_cfg, check_attr_labels=False)
    (targets,) = head.preprocess_gt([gt], [None])
    assert targets.attr_labels.tolist() == gt.attr_labels.tolist()
    with pytest.raises(ValueError, match='group "color"'):
        build_head(attr_model_cfg).preprocess_gt([gt], [None])


def test_loss_without_weight_sum_is_refused(attr_model_cfg):
    with pytest.raises(TypeError, match='weight_sum'):
        build_head(
            attr_model_cfg,
            loss_attr_single=dict(type='CrossEntropyLoss', ignore_index=-1),
        )


@pytest.mark.parametrize(
    'overrides, message',
    [
        (dict(attr_value_weights=dict(color=[1.0, 2.0])), '2 weights'),
        (dict(attr_loss_weights=dict(shape=1.0)), 'undeclared'),
        (
            dict(
                loss_attr_single=dict(
                    type='AttrCrossEntropyLoss', class_weight=[1.0] * 4
                )
            ),
            'attr_value_weights',
        ),
    ],
)
def test_config_errors_name_the_fix(attr_model_cfg, overrides, message):
    with pytest.raises(ValueError, match=message):
        build_head(attr_model_cfg, **overrides)


def test_warns_when_the_matcher_cannot_see_attributes(attr_model_cfg):
    cfg = copy.deepcopy(attr_model_cfg)
    cfg['train_cfg']['assigner']['match_costs'] = cfg['train_cfg']['assigner'][
        'match_costs'
    ][:3]
    target = 'mmmultilabel.models.dense_heads.attr_mask2former_head.print_log'
    with mock.patch(target) as print_log:
        build_head(cfg)
    messages = ' '.join(str(call.args[0]) for call in print_log.call_args_list)
    assert 'AttrClassificationCost' in messages
    assert 'AttrBinaryCrossEntropyCost' in messages


def test_attribute_groups_from_an_annotation_file(attr_model_cfg, tmp_path):
    groups = attr_model_cfg['panoptic_head']['attribute_groups']
    ann = tmp_path / 'train.json'
    ann.write_text(
        json.dumps(
            dict(
                images=[],
                annotations=[],
                categories=[],
                attribute_groups=groups,
            )
        )
    )
    head = build_head(attr_model_cfg, attribute_groups=str(ann))
    assert head.attr_spec == AttributeSpec(groups)
    fusion = MODELS.build(
        dict(attr_model_cfg['panoptic_fusion_head'], attribute_groups=str(ann))
    )
    assert fusion.attr_spec == AttributeSpec(groups)


def test_attribute_groups_missing_file_is_named(attr_model_cfg):
    with pytest.raises(FileNotFoundError, match='AttrMask2FormerHead.*nope'):
        build_head(attr_model_cfg, attribute_groups='nope/train.json')


def test_each_layer_is_matched_once_per_image(attr_model_cfg):
    """The matching of a layer (attribute costs included) is the one its
    class and mask losses use: mmdet's own get_targets is not asked again."""
    head = build_head(attr_model_cfg)
    masks = two_instances()
    gt = InstanceData(
        labels=torch.tensor([1, 2]),
        masks=BitmapMasks(masks.numpy(), 64, 64),
        attr_labels=torch.tensor([[2, 0, 1, 0], [0, 1, 0, 1]]),
    )
    gts = head.preprocess_gt([gt, copy.deepcopy(gt)], [None, None])
    # Layer 0 fits query 3 to instance 0, layer 1 fits query 5.
    layers = [crafted_predictions(masks, [q, 7], [1, 2]) for q in (3, 5)]
    all_cls_scores = [torch.stack([c, c]) for c, _ in layers]
    all_mask_preds = [torch.stack([m, m]) for _, m in layers]
    metas = [dict(img_shape=(64, 64))] * 2

    assign = mock.patch.object(
        head.assigner, 'assign', wraps=head.assigner.assign
    )
    labels_seen = []
    loss_cls = mock.patch.object(
        head.loss_cls,
        'forward',
        side_effect=lambda pred, labels, *a, **kw: labels_seen.append(
            labels.view(2, NUM_QUERIES)
        )
        or pred.sum() * 0,
    )
    with assign as assign_mock, loss_cls:
        losses = head.loss_by_feat(all_cls_scores, all_mask_preds, gts, metas)

    # 2 layers x 2 images, one matching each.
    assert assign_mock.call_count == 4
    assert 'd0.loss_attr_color' in losses and 'loss_attr_color' in losses
    # The class targets of each layer follow that layer's matching.
    for seen, query in zip(labels_seen, (3, 5)):
        expected = torch.full((2, NUM_QUERIES), NUM_CLASSES)
        expected[:, query], expected[:, 7] = 1, 2
        assert torch.equal(seen, expected)
