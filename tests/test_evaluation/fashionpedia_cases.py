"""Small hand-checkable Fashionpedia-form cases (ground truth + results).

Boxes make the IoUs easy to compute by hand; the cases are evaluated with
``iou_type='bbox'``. Category ids equal positions (0..K-1), as in the
official files, and the names are the official ones, so that FPEval's
categories with attributes are 0-12 (garments) and 28, 29, 31, 32, 33.
"""

OFFICIAL_NAMES = (
    'shirt, blouse', 'top, t-shirt, sweatshirt', 'sweater', 'cardigan',
    'jacket', 'vest', 'pants', 'shorts', 'skirt', 'coat', 'dress',
    'jumpsuit', 'cape', 'glasses', 'hat',
    'headband, head covering, hair accessory', 'tie', 'glove', 'watch',
    'belt', 'leg warmer', 'tights, stockings', 'sock', 'shoe', 'bag, wallet',
    'scarf', 'umbrella', 'hood', 'collar', 'lapel', 'epaulette', 'sleeve',
    'pocket', 'neckline', 'buckle', 'zipper', 'applique', 'bead', 'bow',
    'flower', 'fringe', 'ribbon', 'rivet', 'ruffle', 'sequin', 'tassel',
)  # fmt: skip


def box_seg(x, y, w, h):
    """Polygon of a box, as published annotations give masks."""
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def gt_file(anns, num_attrs=4, num_cats=46, size=100):
    """Fashionpedia-form ground truth: one image, no ``bbox`` fields."""
    annotations = []
    for n, (cat, box, attrs, *crowd) in enumerate(anns):
        annotations.append(
            dict(
                id=n + 1,
                image_id=1,
                category_id=cat,
                segmentation=box_seg(*box),
                area=float(box[2] * box[3]),
                iscrowd=crowd[0] if crowd else 0,
                attribute_ids=list(attrs),
            )
        )
    return dict(
        info={},
        images=[dict(id=1, width=size, height=size, file_name='1.jpg')],
        categories=[
            dict(id=k, name=OFFICIAL_NAMES[k], supercategory='x')
            for k in range(num_cats)
        ],
        attributes=[
            dict(id=a, name=f'attr{a}', supercategory=f'group{a % 2}')
            for a in range(num_attrs)
        ],
        annotations=annotations,
    )


def results(dets):
    """Fashionpedia-form results (``attribute_ids``), boxes only."""
    return [
        dict(
            image_id=1,
            category_id=cat,
            bbox=list(box),
            score=score,
            attribute_ids=list(attrs),
        )
        for cat, box, attrs, score in dets
    ]


def chain_case():
    """[FP-MATCH]: a ground truth is taken only if it beats the best IoU
    *and* the best F1 so far.

    B (id 1, box 10x8, attrs {1}) comes before A (id 2, box 10x10, attrs
    {0, 1}). d1 (box 10x9, attrs {1}): IoU B 80/90 = 0.889, IoU A 0.9,
    F1 B 1.0, F1 A 0.733. d2 (box 10x10, attrs {0, 1}): IoU A 1.0, IoU B
    0.8, F1 A 1.0, F1 B 0.733. At t_IoU 0.85, t_F1 0.5, FPEval gives d1 to
    B (A has a larger IoU but a smaller F1) and d2 to A; COCO's rule gives
    d1 to A (largest IoU), and d2 finds nothing (B's IoU 0.8 < 0.85).
    """
    gt = gt_file([(0, (0, 0, 10, 8), [1]), (0, (0, 0, 10, 10), [0, 1])])
    res = results(
        [(0, (0, 0, 10, 9), [1], 0.9), (0, (0, 0, 10, 10), [0, 1], 0.8)]
    )
    return gt, res


def weighting_case():
    """[FP-AVG] and [FP-CATS]: category 0 (with attributes) and 13
    (glasses, without) each have one perfectly located detection.

    Category 0: F1 = 0.733 (gt {0, 1}, predicted {1}, 4 attributes), so
    it is a true positive at t_F1 0.50, 0.55, 0.60, 0.65, 0.70 (precision
    1) and not at the five others (precision 0). Category 13: its wrong
    attributes are not looked at, precision 1. AP^{IoU+F1} = (5 x 1 + 5 x
    0 + 1 x 1) / 11 = 6/11; AP^{IoU} = 1.
    """
    gt = gt_file([(0, (0, 0, 10, 10), [0, 1]), (13, (50, 50, 20, 20), [2])])
    res = results(
        [(0, (0, 0, 10, 10), [1], 0.9), (13, (50, 50, 20, 20), [3], 0.8)]
    )
    return gt, res


def crowd_case():
    """[FP-MATCH]: in a category with attributes a crowd ground truth is
    taken once, like any other.

    Category 0: a crowd region C (0, 0, 50, 50) and a regular ground truth
    R (60, 60, 20, 20). d1 (0.9) and d2 (0.8) lie inside C (IoU with a
    crowd region: intersection / detection area = 1), d3 (0.7) is R.
    COCO: d1, d2 ignored, d3 true positive: AP 1. FPEval: d1 ignored, d2
    a false positive (C already taken), d3 true positive: precision 1/2 at
    recall 1, AP^{IoU} = AP^{IoU+F1} = 0.5.
    """
    gt = gt_file(
        [(0, (0, 0, 50, 50), [], 1), (0, (60, 60, 20, 20), [])], size=100
    )
    res = results(
        [
            (0, (0, 0, 10, 10), [], 0.9),
            (0, (20, 20, 10, 10), [], 0.8),
            (0, (60, 60, 20, 20), [], 0.7),
        ]
    )
    return gt, res
