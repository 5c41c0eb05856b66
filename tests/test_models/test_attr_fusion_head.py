"""AttrMaskFormerFusionHead on hand-made logits."""

import pytest
import torch
from attr_model_utils import ATTRIBUTE_GROUPS, NUM_CLASSES
from mmdet.registry import MODELS

from mmmultilabel.models.utils import attr_logits_to_scores
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)
NUM_ATTR_LOGITS = 9


def build_fusion_head(
    attribute_groups=ATTRIBUTE_GROUPS, max_per_image=5, **kw
):
    return MODELS.build(
        dict(
            type='AttrMaskFormerFusionHead',
            num_things_classes=NUM_CLASSES,
            num_stuff_classes=0,
            attribute_groups=attribute_groups,
            test_cfg=dict(
                panoptic_on=False,
                instance_on=True,
                max_per_image=max_per_image,
                iou_thr=0.8,
                filter_low_score=True,
            ),
            **kw,
        )
    )


def distinct_masks(num_queries, h=12, w=10):
    """Mask logits whose binary masks differ for every query."""
    mask_pred = torch.full((num_queries, h, w), -4.0)
    for q in range(num_queries):
        mask_pred[q, q : q + 3, : q + 2] = 4.0
    return mask_pred


def query_of(binary_mask, mask_pred):
    matches = [
        q
        for q in range(len(mask_pred))
        if torch.equal(mask_pred[q] > 0, binary_mask)
    ]
    assert len(matches) == 1
    return matches[0]


def test_instances_take_the_attributes_of_their_query():
    torch.manual_seed(0)
    num_queries = 4
    mask_cls = torch.randn(num_queries, NUM_CLASSES + 1 + NUM_ATTR_LOGITS) * 3
    mask_pred = distinct_masks(num_queries)
    head = build_fusion_head(max_per_image=6)

    result = head.instance_postprocess(mask_cls, mask_pred)

    attr_logits = mask_cls[:, NUM_CLASSES + 1 :]
    expected_labels, _, _ = head.decode_attributes(attr_logits)
    expected_scores = attr_logits_to_scores(attr_logits, SPEC)
    class_probs = mask_cls[:, : NUM_CLASSES + 1].softmax(-1)
    queries = [query_of(m, mask_pred) for m in result.masks]
    # Top-k over 4 queries x 3 classes: some query gives two instances.
    assert len(queries) == 6 and len(set(queries)) < 6
    for i, q in enumerate(queries):
        torch.testing.assert_close(result.attr_scores[i], expected_scores[q])
        assert torch.equal(result.attr_labels[i], expected_labels[q])
        mask_prob = mask_pred[q].sigmoid()[mask_pred[q] > 0].mean()
        torch.testing.assert_close(
            result.scores[i], class_probs[q, result.labels[i]] * mask_prob
        )


def logits(color, size, pattern):
    return torch.tensor([color + size + pattern])


def test_labels_without_thresholds_are_the_best_values():
    head = build_fusion_head()
    # No-object wins color, and pattern values at 0.73 / 0.27.
    labels, scores, _ = head.decode_attributes(
        logits([1.0, 0.0, 0.0, 5.0], [0.0, 2.0, 0.0], [1.0, -1.0])
    )
    assert labels.tolist() == [[0, 1, 1, 0]]
    assert scores.shape == (1, 7)
    assert scores[0, :3].sum() < 0.1  # no-object column dropped


def test_unknown_thresholds_turn_groups_unknown():
    head = build_fusion_head(
        attr_unknown_thrs=dict(color=0.0, size=0.5, pattern=0.8)
    )
    no_object_color = logits(
        [1.0, 0.0, 0.0, 5.0], [0.0, 3.0, 0.0], [4.0, -4.0]
    )
    unsure = logits([5.0, 0.0, 0.0, 0.0], [0.0, 0.0, -0.2], [0.1, -0.1])
    labels, _, _ = head.decode_attributes(torch.cat([no_object_color, unsure]))
    assert labels.tolist() == [[-1, 1, 1, 0], [0, -1, -1, -1]]


def test_value_threshold_binarizes_multi_label_groups():
    head = build_fusion_head(attr_value_thr=0.8)
    labels, scores, _ = head.decode_attributes(
        logits([0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0])
    )
    # sigmoid(1) = 0.73, sigmoid(2) = 0.88
    assert labels[0, 2:].tolist() == [0, 1]
    torch.testing.assert_close(
        scores[0, 5:], torch.tensor([1.0, 2.0]).sigmoid()
    )


def test_class_attr_score_mode_ranks_by_attribute_confidence():
    # Query 1 has the higher class probability, query 0 sure attributes.
    sure = [9.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 9.0, -9.0]
    unsure = [0.0] * NUM_ATTR_LOGITS
    mask_cls = torch.tensor(
        [[4.0, 0.0, 0.0, 0.0] + sure, [4.2, 0.0, 0.0, 0.0] + unsure]
    )
    mask_pred = distinct_masks(2)
    by_class = build_fusion_head(max_per_image=1)
    by_both = build_fusion_head(max_per_image=1, score_mode='class_attr')

    assert (
        query_of(
            by_class.instance_postprocess(mask_cls, mask_pred).masks[0],
            mask_pred,
        )
        == 1
    )
    result = by_both.instance_postprocess(mask_cls, mask_pred)
    assert query_of(result.masks[0], mask_pred) == 0
    _, _, conf = by_both.decode_attributes(mask_cls[:, NUM_CLASSES + 1 :])
    class_prob = mask_cls[0, : NUM_CLASSES + 1].softmax(-1)[0]
    mask_prob = mask_pred[0].sigmoid()[mask_pred[0] > 0].mean()
    torch.testing.assert_close(
        result.scores[0], class_prob * conf[0] * mask_prob
    )


def test_without_groups_it_is_mmdet_fusion_head():
    torch.manual_seed(0)
    mask_cls = torch.randn(5, NUM_CLASSES + 1)
    mask_pred = torch.randn(5, 12, 10)
    ours = build_fusion_head(attribute_groups=None)
    theirs = MODELS.build(
        dict(
            type='MaskFormerFusionHead',
            num_things_classes=NUM_CLASSES,
            num_stuff_classes=0,
            test_cfg=ours.test_cfg,
        )
    )
    mine = ours.instance_postprocess(mask_cls, mask_pred)
    stock = theirs.instance_postprocess(mask_cls, mask_pred)
    for field in ('labels', 'scores', 'masks', 'bboxes'):
        assert torch.equal(getattr(mine, field), getattr(stock, field)), field
    assert mine.attr_labels.shape == mine.attr_scores.shape == (5, 0)


def test_panoptic_results_use_the_class_logits():
    torch.manual_seed(0)
    mask_cls = torch.randn(4, NUM_CLASSES + 1 + NUM_ATTR_LOGITS) * 4
    mask_pred = distinct_masks(4) * 2
    head = build_fusion_head()
    stock = MODELS.build(
        dict(
            type='MaskFormerFusionHead',
            num_things_classes=NUM_CLASSES,
            num_stuff_classes=0,
            test_cfg=head.test_cfg,
        )
    )
    mine = head.panoptic_postprocess(mask_cls, mask_pred)
    theirs = stock.panoptic_postprocess(
        mask_cls[:, : NUM_CLASSES + 1], mask_pred
    )
    assert torch.equal(mine.sem_seg, theirs.sem_seg)


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(score_mode='attr'), 'score_mode'),
        (dict(attr_unknown_thrs=dict(shape=0.5)), 'undeclared'),
    ],
)
def test_config_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build_fusion_head(**kwargs)


def test_logits_of_other_groups_are_rejected():
    head = build_fusion_head()
    with pytest.raises(ValueError, match='same attribute_groups'):
        head.instance_postprocess(
            torch.randn(3, NUM_CLASSES + 1 + 5), torch.randn(3, 8, 8)
        )


def test_scores_follow_the_score_layout():
    attr_logits = torch.randn(6, NUM_ATTR_LOGITS)
    scores = attr_logits_to_scores(attr_logits, SPEC)
    assert scores.shape == (6, SPEC.num_values)
    color, size, pattern = SPEC.score_slices.values()
    torch.testing.assert_close(
        scores[:, color], attr_logits[:, :4].softmax(-1)[:, :3]
    )
    torch.testing.assert_close(
        scores[:, size], attr_logits[:, 4:7].softmax(-1)[:, :2]
    )
    torch.testing.assert_close(
        scores[:, pattern], attr_logits[:, 7:].sigmoid()
    )
