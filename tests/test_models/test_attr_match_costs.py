"""Attribute match costs, alone and inside mmdet's HungarianAssigner."""

import pytest
import torch
import torch.nn.functional as F
from attr_model_utils import ATTRIBUTE_GROUPS
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

from mmmultilabel.models.utils import split_attr_logits
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)
# Ground truth rows (color, size, pattern[striped, dotted]).
GT_ATTR = torch.tensor([[2, 0, 1, 0], [-1, 1, -1, -1], [0, -1, 0, 1]])


def pred_instances(attr_logits, **fields):
    return InstanceData(
        metainfo=dict(attribute_spec=SPEC), attr_logits=attr_logits, **fields
    )


def test_classification_cost_is_minus_probability_of_known_values():
    logits = torch.randn(5, 9)
    cost = TASK_UTILS.build(dict(type='AttrClassificationCost', weight=2.0))(
        pred_instances(logits), InstanceData(attr_labels=GT_ATTR)
    )
    color, size, _ = split_attr_logits(logits, SPEC)
    p_color, p_size = color.softmax(-1), size.softmax(-1)
    expected = torch.stack(
        [
            -(p_color[:, 2] + p_size[:, 0]),
            -p_size[:, 1],  # color unknown
            -p_color[:, 0],  # size unknown
        ],
        dim=1,
    )
    torch.testing.assert_close(cost, 2.0 * expected)


def test_binary_cost_is_mean_bce_of_known_groups():
    logits = torch.randn(4, 9)
    cost = TASK_UTILS.build(dict(type='AttrBinaryCrossEntropyCost'))(
        pred_instances(logits), InstanceData(attr_labels=GT_ATTR)
    )
    pattern = split_attr_logits(logits, SPEC)[2]
    expected = torch.zeros(4, 3)
    for n in (0, 2):
        target = GT_ATTR[n, 2:].float().expand(4, 2)
        expected[:, n] = F.binary_cross_entropy_with_logits(
            pattern, target, reduction='none'
        ).mean(-1)
    torch.testing.assert_close(cost, expected)  # column 1 unknown: 0


def test_costs_need_the_head_inputs():
    cost = TASK_UTILS.build(dict(type='AttrClassificationCost'))
    with pytest.raises(KeyError, match='attribute_spec'):
        cost(
            InstanceData(attr_logits=torch.randn(2, 9)),
            InstanceData(attr_labels=GT_ATTR),
        )


def test_hungarian_assigner_matches_by_attributes():
    """Two queries and two ground truths alike but for their attributes."""
    assigner = TASK_UTILS.build(
        dict(
            type='HungarianAssigner',
            match_costs=[
                dict(type='ClassificationCost', weight=2.0),
                dict(type='AttrClassificationCost', weight=1.0),
                dict(type='AttrBinaryCrossEntropyCost', weight=1.0),
            ],
        )
    )
    # Query 0 says green/large/dotted, query 1 red/small/striped.
    attr_logits = torch.tensor(
        [
            [0.0, 5.0, 0.0, 0.0, 0.0, 5.0, 0.0, -5.0, 5.0],
            [5.0, 0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 5.0, -5.0],
        ]
    )
    preds = pred_instances(attr_logits, scores=torch.zeros(2, 4))
    gts = InstanceData(
        labels=torch.tensor([1, 1]),
        attr_labels=torch.tensor([[0, 0, 1, 0], [1, 1, 0, 1]]),
    )
    result = assigner.assign(preds, gts, img_meta={})
    # 1-based ground truth index per query.
    assert result.gt_inds.tolist() == [2, 1]


@pytest.mark.parametrize(
    'type_', ['AttrClassificationCost', 'AttrBinaryCrossEntropyCost']
)
@pytest.mark.parametrize('precomputed', [False, True])
def test_costs_run_in_float32_under_autocast(type_, precomputed):
    """Under mixed precision the costs are those of float32: a bfloat16
    matrix product is off by up to 4e-3 (classification) and 0.2 (binary
    cross-entropy) here."""
    torch.manual_seed(0)
    cost = TASK_UTILS.build(dict(type=type_))
    logits = 30 * torch.randn(100, 9)
    pred, gt = pred_instances(logits), InstanceData(attr_labels=GT_ATTR)
    expected = cost(pred, gt)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        if precomputed:
            # as the head does: features computed under autocast too
            pred.set_field(
                cost.pred_features(logits.bfloat16(), SPEC),
                cost.feature_field,
            )
            gt.set_field(cost.gt_features(GT_ATTR, SPEC), cost.feature_field)
            expected = cost(
                pred_instances(logits.bfloat16().float()),
                InstanceData(attr_labels=GT_ATTR),
            )
        got = cost(pred, gt)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
