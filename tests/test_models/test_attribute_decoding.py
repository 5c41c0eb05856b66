"""Decoding of attribute scores, by hand: labels, the unknown rule,
confidence and records (``mmmultilabel.models.utils``)."""

import pytest
import torch
from attr_model_utils import ATTRIBUTE_GROUPS, NUM_CLASSES

from mmmultilabel.models.utils import (
    attr_confidence,
    attr_group_thrs,
    attr_predictions,
    decode_attr_logits,
    decode_attr_scores,
    mark_unknown_attrs,
    split_class_attr_logits,
)
from mmmultilabel.utils import AttributeSpec

# expected values are floats that torch computes: run again under another
# kernel set and one thread (make test-kernels)
pytestmark = pytest.mark.numeric

SPEC = AttributeSpec(ATTRIBUTE_GROUPS)
# Label columns: color | size | pattern (striped, dotted).
# Score columns: color (red, green, blue) | size (small, large) | pattern.
LABELS = [
    [0, 1, 1, 0],
    [0, 0, 1, 1],
    [1, 0, 1, 0],
    [-1, 1, 1, 1],
]
SCORES = [
    # no object 0.60 beats red 0.35
    [0.35, 0.05, 0.00, 0.1, 0.2, 0.90, 0.10],
    # red 0.30 at the threshold; dotted 0.5 unsure at 0.8
    [0.30, 0.25, 0.25, 0.6, 0.3, 0.95, 0.50],
    # green 0.28 below 0.3
    [0.25, 0.28, 0.27, 0.5, 0.4, 0.85, 0.15],
    # color already unknown; dotted 0.70 unsure at 0.8 (though the mean of
    # max(p, 1 - p) over the values is 0.845)
    [0.90, 0.05, 0.05, 0.1, 0.8, 0.99, 0.70],
]


@pytest.mark.parametrize('no_object', [False, True])
def test_unknown_rule_by_hand(no_object):
    labels, scores = torch.tensor(LABELS), torch.tensor(SCORES)
    out = mark_unknown_attrs(
        labels, scores, SPEC, dict(color=0.3, pattern=0.8), no_object
    )
    assert out.tolist() == [
        # red 0.35 >= 0.3, but the no-object slot (0.60) is more probable
        [-1 if no_object else 0, 1, 1, 0],
        [0, 0, -1, -1],  # 0.30 is not below 0.3; dotted 0.5 is unsure
        [-1, 0, 1, 0],  # 0.28 < 0.3; 0.85 and 0.15 are sure at 0.8
        [-1, 1, -1, -1],  # unknown stays unknown; one unsure value
    ]
    # size has no threshold: its no-object slot wins in row 0, no matter.
    assert labels.tolist() == LABELS, 'the input is not modified'


def test_threshold_zero_changes_nothing_after_the_model():
    labels, scores = torch.tensor(LABELS), torch.tensor(SCORES)
    out = mark_unknown_attrs(
        labels, scores, SPEC, attr_group_thrs(0, SPEC, '')
    )
    assert torch.equal(out, labels)


def test_multi_label_threshold_up_to_half_never_unknown():
    labels, scores = torch.tensor(LABELS), torch.tensor(SCORES)
    out = mark_unknown_attrs(labels, scores, SPEC, dict(pattern=0.5))
    assert torch.equal(out, labels)
    assert torch.equal(mark_unknown_attrs(labels, scores, SPEC, {}), labels)


def test_labels_of_scores():
    # red and green tie: the first; dotted 0.49 below the value threshold.
    scores = torch.tensor([[0.4, 0.4, 0.1, 0.3, 0.6, 0.5, 0.49]])
    assert decode_attr_scores(scores, SPEC).tolist() == [[0, 1, 1, 0]]
    assert decode_attr_scores(scores, SPEC, 0.4).tolist() == [[0, 1, 1, 1]]


def test_confidence_is_the_geometric_mean_of_groups():
    scores = torch.tensor([[0.6, 0.3, 0.1, 0.2, 0.8, 0.9, 0.3]])
    # color 0.6, size 0.8, pattern mean(0.9, 0.7) = 0.8
    torch.testing.assert_close(
        attr_confidence(scores, SPEC), torch.tensor([0.384 ** (1 / 3)])
    )
    assert (
        attr_confidence(torch.zeros(3, 0), AttributeSpec()).tolist()
        == [1.0] * 3
    )


def test_logits_decode_as_their_scores():
    """decode_attr_logits = softmax / sigmoid, then the rules above."""
    color = [0.0, 0.0, 0.0, 2.0]  # no object: e^2 / (3 + e^2) = 0.71
    size = [1.0, 0.0, 0.0]  # small e / (2 + e) = 0.58
    pattern = [2.0, 0.0]  # 0.88, 0.5
    logits = torch.tensor([color + size + pattern])
    labels, scores, conf = decode_attr_logits(
        logits, SPEC, group_thrs=dict(color=0.05, size=0.55, pattern=0.6)
    )
    e = torch.e
    expected = [1 / (3 + e * e)] * 3 + [e / (2 + e), 1 / (2 + e)]
    expected += [1 / (1 + e**-2), 0.5]
    torch.testing.assert_close(scores, torch.tensor([expected]))
    # color: no object wins (each value 0.096 >= 0.05); size 0.58 >= 0.55;
    # dotted 0.5 is unsure.
    assert labels.tolist() == [[-1, 0, -1, -1]]
    torch.testing.assert_close(conf, attr_confidence(scores, SPEC))


def test_records_of_labels_and_scores():
    scores = [0.1, 0.2, 0.7, 0.3, 0.4, 0.8, 0.6]
    assert attr_predictions([2, -1, 1, 1], scores, SPEC) == {
        'color': {'value': 'blue', 'score': pytest.approx(0.7)},
        'size': {'value': None, 'score': None},
        'pattern': {
            'value': ['striped', 'dotted'],
            'score': [pytest.approx(0.8), pytest.approx(0.6)],
        },
    }
    record = attr_predictions([0, 1, 0, 0], scores, SPEC)
    assert record['pattern'] == {'value': [], 'score': []}
    assert record['size'] == {'value': 'large', 'score': pytest.approx(0.4)}


def test_records_leave_out_groups_of_other_categories():
    scores = [0.1, 0.2, 0.7, 0.3, 0.4, 0.8, 0.6]
    spec = AttributeSpec(
        [dict(ATTRIBUTE_GROUPS[0], categories=['car'])]
        + list(ATTRIBUTE_GROUPS[1:])
    )
    full = attr_predictions([2, 0, 1, 1], scores, spec, 'car')
    assert full == attr_predictions([2, 0, 1, 1], scores, SPEC)
    assert attr_predictions([2, 0, 1, 1], scores, spec, 'bus') == {
        k: v for k, v in full.items() if k != 'color'
    }


def test_group_thresholds():
    assert attr_group_thrs(None, SPEC, 'thr') == {}
    assert attr_group_thrs(0.6, SPEC, 'thr') == dict(
        color=0.6, size=0.6, pattern=0.6
    )
    assert attr_group_thrs(dict(size=1), SPEC, 'thr') == dict(size=1.0)
    with pytest.raises(ValueError, match=r"my_thr names .*\['shape'\]"):
        attr_group_thrs(dict(shape=0.5), SPEC, 'my_thr')
    with pytest.raises(ValueError, match='"size" is -0.1'):
        attr_group_thrs(dict(size=-0.1), SPEC, 'my_thr')


def test_class_and_attribute_logits_split():
    logits = torch.randn(2, 5, NUM_CLASSES + 1 + 9)
    cls_logits, attr_logits = split_class_attr_logits(
        logits, NUM_CLASSES, SPEC
    )
    assert cls_logits.shape == (2, 5, 4) and attr_logits.shape == (2, 5, 9)
    assert torch.equal(torch.cat([cls_logits, attr_logits], -1), logits)
    with pytest.raises(ValueError, match='12 channels.*4 class and 9'):
        split_class_attr_logits(logits[..., :12], NUM_CLASSES, SPEC)


def test_fusion_head_and_thresholds_after_it_agree():
    """The model's attr_unknown_thrs and the inferencer's attr_thr are one
    rule, the model adding its no-object judgement."""
    torch.manual_seed(0)
    logits = torch.randn(50, 9) * 2
    thrs = dict(color=0.2, size=0.3, pattern=0.75)
    at_decoding, scores, _ = decode_attr_logits(logits, SPEC, group_thrs=thrs)
    plain, _, _ = decode_attr_logits(logits, SPEC)
    assert torch.equal(
        at_decoding, mark_unknown_attrs(plain, scores, SPEC, thrs, True)
    )
    after = mark_unknown_attrs(plain, scores, SPEC, thrs)
    # The same where no no-object slot wins, more unknown where one does.
    assert torch.equal(at_decoding[after == -1], after[after == -1])
    assert 0 < (after == -1).sum() < (at_decoding == -1).sum()
