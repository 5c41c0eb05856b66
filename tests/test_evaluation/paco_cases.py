"""Small PACO-form cases whose numbers can be checked by hand.

Every case is ``bbox`` evaluation with boxes that either coincide with a
ground truth (IoU 1) or touch none, so that an AP is 1 (the true positive
ranks first), 0.5 (one counted false positive ranks above the single true
positive) or 51/101 (one of two positives found first: precision 1 up to
recall 0.5, read at the 51 recall thresholds 0.00..0.50 of 101).

The expected values in ``test_paco_eval.py`` were derived by hand and
confirmed by running PACO's official ``PACOEval`` + ``heirachrichal_APs``
(``facebookresearch/paco``, with ``lvis`` 0.5.3) on the same dicts.
"""

import copy

# attribute ids are positions in ``attribute_probs``
RED, OTHER_COLOR, WOOD, OTHER_MATERIAL = 0, 1, 2, 3
ATTRIBUTES = [
    dict(id=RED, name='red'),
    dict(id=OTHER_COLOR, name='other(color)'),
    dict(id=WOOD, name='wood'),
    dict(id=OTHER_MATERIAL, name='other(material)'),
]
PROB_INDEX = dict(
    red=RED, other_color=OTHER_COLOR, wood=WOOD, other_material=OTHER_MATERIAL
)
TYPES = dict(color=[RED, OTHER_COLOR], material=[WOOD, OTHER_MATERIAL])
CUP, MUG, HANDLE = 1, 2, 3
CATEGORIES = [
    dict(id=CUP, name='cup', frequency='f'),
    dict(id=MUG, name='mug', frequency='c'),
    dict(id=HANDLE, name='cup:handle', frequency='r'),
]


def pair_id(cat: int, attr: int) -> int:
    return cat * 10 + attr


def image(img_id: int, **federated) -> dict:
    """A 100 x 100 image; federated lists default to COCO semantics (all
    categories and pairs verified, nothing incomplete)."""
    img = dict(
        id=img_id,
        width=100,
        height=100,
        file_name=f'{img_id}.jpg',
        neg_category_ids=[c['id'] for c in CATEGORIES],
        not_exhaustive_category_ids=[],
        neg_category_ids_attrs=[
            pair_id(c['id'], a['id']) for c in CATEGORIES for a in ATTRIBUTES
        ],
        not_exhaustive_category_ids_attrs=[],
    )
    img.update(federated)
    return img


def ann(ann_id, img_id, cat, box, attrs=(), **fields) -> dict:
    """A ground truth with a box-shaped polygon, no ``iscrowd``."""
    x, y, w, h = box
    out = dict(
        id=ann_id,
        image_id=img_id,
        category_id=cat,
        bbox=list(box),
        area=float(w * h),
        segmentation=[[x, y, x + w, y, x + w, y + h, x, y + h]],
        attribute_ids=list(attrs),
        unknown_color=0,
        unknown_material=0,
    )
    out.update(fields)
    return out


def det(img_id, cat, box, score, **probs) -> dict:
    """A PACO result; ``probs`` by attribute name, 0 for the others."""
    p = [0.0] * len(ATTRIBUTES)
    for name, value in probs.items():
        p[PROB_INDEX[name]] = value
    return dict(
        image_id=img_id,
        category_id=cat,
        bbox=list(box),
        score=score,
        attribute_probs=p,
    )


def ground_truth(images, anns, pairs=None) -> dict:
    """PACO dict; ``pairs`` defaults to every (category, attribute)."""
    if pairs is None:
        pairs = [(c['id'], a['id']) for c in CATEGORIES for a in ATTRIBUTES]
    return dict(
        images=images,
        annotations=anns,
        categories=copy.deepcopy(CATEGORIES),
        attributes=copy.deepcopy(ATTRIBUTES),
        attr_type_to_attr_idxs=copy.deepcopy(TYPES),
        joint_obj_attribute_categories=[
            {'obj': c, 'attr': a, 'obj-attr': pair_id(c, a)} for c, a in pairs
        ],
    )


def hierarchy_case():
    """Nested averaging, ``other(...)`` exclusion, objects vs parts.

    Pair APs: (cup, red) 1, (cup, wood) 0.5, (mug, other(color)) 0.5,
    (mug, other(material)) 1, (handle, red) 0.5; the other pairs have no
    positive (NaN). Objects: color = mean(red 1, other(color) 0.5) = 0.75,
    material = wood 0.5 (other(material) left out) -> obj_attr_AP 0.625.
    Parts: color = red 0.5, material NaN -> obj_attr_part_AP 0.5.
    """
    gt = ground_truth(
        [image(1)],
        [
            ann(1, 1, CUP, (0, 0, 20, 20), [RED, WOOD]),
            ann(2, 1, MUG, (50, 50, 20, 20), [OTHER_COLOR, OTHER_MATERIAL]),
            ann(3, 1, HANDLE, (0, 0, 5, 5), [RED]),
        ],
    )
    results = [
        det(1, CUP, (0, 0, 20, 20), 1.0, red=0.9, other_color=0.2, wood=0.8),
        det(1, CUP, (80, 0, 10, 10), 1.0, red=0.5, other_color=0.6, wood=0.9),
        det(
            1, MUG, (50, 50, 20, 20), 1.0, other_color=0.7, other_material=0.4
        ),
        det(1, MUG, (0, 80, 10, 10), 1.0, other_color=0.9),
        det(1, HANDLE, (0, 0, 5, 5), 1.0, red=0.2),
        det(1, HANDLE, (90, 90, 5, 5), 1.0, red=0.4),
    ]
    return gt, results


def unknown_case():
    """Unknown rule and a value listed under a type flagged unknown.

    Cups: #1 knows no color (``unknown_color`` 1), #2 red, #3 red although
    its color is flagged unknown (PACO counts it as a positive). The red
    probability ranks the detection of #1 first: unmatched for (cup, red),
    but its object-level match #1 has the color unknown, so it is ignored.
    #3 is missed: (cup, red) AP = 51/101.
    """
    gt = ground_truth(
        [image(1)],
        [
            ann(1, 1, CUP, (0, 0, 20, 20), [], unknown_color=1),
            ann(2, 1, CUP, (30, 0, 20, 20), [RED]),
            ann(3, 1, CUP, (60, 0, 20, 20), [RED], unknown_color=1),
        ],
        pairs=[(CUP, RED)],
    )
    results = [
        det(1, CUP, (0, 0, 20, 20), 0.9, red=0.9),
        det(1, CUP, (30, 0, 20, 20), 0.8, red=0.8),
    ]
    return gt, results


def federated_case(neg_mug_on_1: bool, cup_not_exhaustive_on_1: bool):
    """LVIS' federated lists.

    Image 1 has a cup (found) and no mug; a mug detection there is only
    counted when ``mug`` is in its ``neg_category_ids``; an extra cup
    detection is ignored when ``cup`` is in ``not_exhaustive_category_ids``.
    Image 2 has a mug found with a lower score. AP (mean of cup, mug):
    cup 1 or 0.5, mug 1 or 0.5.
    """
    img1 = image(
        1,
        neg_category_ids=[MUG] if neg_mug_on_1 else [],
        not_exhaustive_category_ids=[CUP] if cup_not_exhaustive_on_1 else [],
    )
    gt = ground_truth(
        [img1, image(2, neg_category_ids=[])],
        [
            ann(1, 1, CUP, (0, 0, 20, 20)),
            ann(2, 2, MUG, (0, 0, 20, 20)),
        ],
        pairs=[(CUP, RED)],
    )
    results = [
        det(1, CUP, (70, 70, 10, 10), 0.95),
        det(1, CUP, (0, 0, 20, 20), 0.9),
        det(1, MUG, (50, 50, 10, 10), 0.8),
        det(2, MUG, (0, 0, 20, 20), 0.5),
    ]
    gt['categories'] = gt['categories'][:2]
    return gt, results


def pair_negative_case(listed: bool):
    """``neg_category_ids_attrs``: (mug, red) on image 2.

    Image 1: a red mug found with red 0.5. Image 2: a mug without red found
    with red 0.9; the pair is only evaluated there when listed in the
    image's ``neg_category_ids_attrs``: (mug, red) AP 0.5 if listed, else 1.
    """
    imgs = [
        image(1, neg_category_ids_attrs=[]),
        image(2, neg_category_ids_attrs=[pair_id(MUG, RED)] if listed else []),
    ]
    gt = ground_truth(
        imgs,
        [
            ann(1, 1, MUG, (0, 0, 20, 20), [RED]),
            ann(2, 2, MUG, (0, 0, 20, 20)),
        ],
        pairs=[(MUG, RED)],
    )
    results = [
        det(1, MUG, (0, 0, 20, 20), 1.0, red=0.5),
        det(2, MUG, (0, 0, 20, 20), 1.0, red=0.9),
    ]
    return gt, results


def part_rule_case():
    """PACO's rule for a part not exhaustively annotated on an image where
    its object is.

    ``cup:handle`` is in ``not_exhaustive_category_ids``, ``cup`` is not.
    Handle detections: (0, 0, 18, 18) score 0.97, overlap ratio with the cup
    (+1 pixel box rule) 19*19 / (400 - 361) = 9.3 >= every threshold ->
    counted; the true handle 0.96; (10, 10, 10, 10) score 0.95, ratio
    121 / 279 = 0.43 < every threshold -> ignored. Handle AP 0.5 (plain
    LVIS would ignore both unmatched ones: 1). The cup is found: AP 1.
    """
    gt = ground_truth(
        [image(1, not_exhaustive_category_ids=[HANDLE])],
        [
            ann(1, 1, CUP, (0, 0, 20, 20)),
            ann(2, 1, HANDLE, (0, 0, 5, 5)),
        ],
        pairs=[(CUP, RED)],
    )
    results = [
        det(1, CUP, (0, 0, 20, 20), 0.9),
        det(1, HANDLE, (0, 0, 18, 18), 0.97),
        det(1, HANDLE, (0, 0, 5, 5), 0.96),
        det(1, HANDLE, (10, 10, 10, 10), 0.95),
    ]
    return gt, results


def no_mask_case():
    """An annotation with ``segmentation: []`` is skipped, also for bbox.

    Cup #2 has only a box; the detection on it is a false positive ranked
    first: cup AP 0.5 (1 if the box-only annotation were read).
    """
    gt = ground_truth(
        [image(1)],
        [
            ann(1, 1, CUP, (0, 0, 20, 20)),
            dict(ann(2, 1, CUP, (50, 50, 20, 20)), segmentation=[]),
        ],
        pairs=[(CUP, RED)],
    )
    gt['categories'] = gt['categories'][:1]
    results = [
        det(1, CUP, (50, 50, 20, 20), 0.9),
        det(1, CUP, (0, 0, 20, 20), 0.8),
    ]
    return gt, results


def row_order_case(sorted_by_score: bool):
    """PACO's pair matching reads IoU rows in score order by file positions.

    Cups #1 (red) and #2. Detection A on #2 (score 0.5, red 0.9), B on #1
    (score 0.9, red 0.1). Listed A, B (not by score): the pair ranking
    puts A first and gives it the IoU row of B, the first in score order,
    so A matches #1 and (cup, red) AP is 1. Listed B, A (by score): A is
    unmatched and counted, B matches: AP 0.5.
    """
    gt = ground_truth(
        [image(1)],
        [
            ann(1, 1, CUP, (0, 0, 20, 20), [RED]),
            ann(2, 1, CUP, (50, 0, 20, 20)),
        ],
        pairs=[(CUP, RED)],
    )
    a = det(1, CUP, (50, 0, 20, 20), 0.5, red=0.9)
    b = det(1, CUP, (0, 0, 20, 20), 0.9, red=0.1)
    return gt, [b, a] if sorted_by_score else [a, b]


#: Official numbers of ``tests/data/paco`` (``gt.json`` + ``results.json``)
#: by ``(iou_type, maxDets)``: printed by PACO's ``PACOEval`` +
#: ``heirachrichal_APs`` (``facebookresearch/paco`` at commit cdefd31,
#: ``lvis`` 0.5.3), divided by 100.
OFFICIAL_FILE_NUMBERS = {
    ('segm', 300): dict(
        AP=0.30658003300330033,
        AP50=0.5860148514851485,
        APr=0.10099009900990097,
        obj_AP=0.32318481848184816,
        obj_part_AP=0.2866336633663366,
        obj_attr_AP=0.23554799229922985,
        obj_attr_part_AP=0.2222394114411441,
        obj_attr_AP_color=0.17683168316831682,
        obj_attr_AP_pattern_marking=0.2489273927392739,
        obj_attr_AP_material=0.18811881188118806,
        obj_attr_AP_transparency=0.32831408140814067,
    ),
    ('bbox', 300): dict(
        AP=0.4100247524752475,
        AP50=0.6377887788778877,
        APr=0.10099009900990097,
        obj_AP=0.38193069306930694,
        obj_part_AP=0.45627062706270627,
        obj_attr_AP=0.2708264576457646,
        obj_attr_part_AP=0.42018701870187014,
        obj_attr_AP_color=0.23349834983498347,
        obj_attr_AP_pattern_marking=0.28498349834983494,
        obj_attr_AP_material=0.20176017601760177,
        obj_attr_AP_transparency=0.36306380638063795,
    ),
    ('segm', 4): dict(
        AP=0.29327557755775574,
        AP50=0.5123762376237624,
        obj_AP=0.32318481848184816,
        obj_part_AP=0.28481848184818476,
        obj_attr_AP=0.24327649431609824,
        obj_attr_part_AP=0.20242711771177116,
    ),
    ('bbox', 4): dict(
        AP=0.3681930693069307,
        AP50=0.5123762376237624,
        obj_AP=0.38193069306930694,
        obj_part_AP=0.37838283828382835,
        obj_attr_AP=0.28970090759075906,
        obj_attr_part_AP=0.32884694719471946,
    ),
}
