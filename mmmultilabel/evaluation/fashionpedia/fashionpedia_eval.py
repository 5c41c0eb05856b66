"""Fashionpedia's AP^{IoU+F1} and AP^{IoU}, exactly as its ``FPEval``.

:class:`FashionpediaEval` reproduces ``FPEval`` of the public
``fashionpedia-api`` (``fashionpedia/fp_eval.py``) number for number. It is
pycocotools' ``COCOeval`` with these rules of ``FPEval`` (each named in the
code where it applies):

* **[FP-F1] attribute F1.** For a (detection, ground truth) pair, both
  attribute id lists become multi-hot vectors over *every* attribute that
  the ground-truth file declares (its top-level ``attributes``, e.g. 294
  or 320 entries); the F1 is scikit-learn's ``f1_score(true, pred,
  average='macro')`` of these two 0/1 vectors taken as binary labels:
  the mean of the F1 of label 1 (``2 TP / (2 TP + FP + FN)``) and of label
  0 (``2 TN / (2 TN + FN + FP)``), over the labels that occur in either
  vector. True negatives count, so predicting no attribute for a ground
  truth with none scores 1, and with few attributes the F1 stays high.
* **[FP-THR] thresholds.** ``t_F1`` is 0.50:0.05:0.95 plus -1 (no F1
  constraint); ``t_IoU`` is COCO's 0.50:0.05:0.95 plus -1 (no IoU
  constraint).
* **[FP-MATCH] matching** (categories with attributes, per ``(t_IoU,
  t_F1)``): greedy by score as COCO, but a ground truth is taken only if
  its IoU *and* its F1 reach the current best values (first the
  thresholds, then those of the last ground truth taken); crowd ground
  truths are taken once like any other. Categories without attributes use
  ``COCOeval``'s own matching, unchanged.
* **[FP-CATS] categories with attributes** are a fixed list of 18
  *positions* in the official 46-category list (garments 0-12 and the parts
  collar, lapel, sleeve, pocket, neckline). ``FPEval`` tests the category
  *id* against it when matching and the *position* in the sorted category
  ids when accumulating and averaging; both agree only when the ids are
  0..K-1, as in the official files.
* **[FP-AVG] weighting.** AP^{IoU+F1} averages the precisions of every
  category with attributes over the ten ``t_F1`` slices and of every other
  category over the single ``t_F1 = -1`` slice: a category with attributes
  weighs ten times more. AP^{IoU} averages the ``t_F1 = -1`` slice of every
  category (for categories with attributes, matched with [FP-MATCH]).
* **[FP-RES] results** are read as ``Fashionpedia.loadRes`` does (as
  pycocotools' ``loadRes``): when the first result has a ``bbox``, the area
  of every detection (which decides its area range) is its box area, even
  for ``segm``.

Everything else (IoUs, crowd IoU, area ranges, ``maxDets`` 1, 10, 100,
recall thresholds, precision interpolation, -1 for absent categories) is
``COCOeval``'s. ``docs/evaluation.md`` shows the numbers side by side with
the official code.
"""

import contextlib
import io
import logging
from collections import OrderedDict
from typing import Dict, Hashable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log
from pycocotools.cocoeval import COCOeval
from terminaltables import AsciiTable

from mmmultilabel.datasets.formats import (
    FASHIONPEDIA,
    ann_where,
    detect_format,
)
from mmmultilabel.utils.errors import AnnotationDefectError

from ..accumulate import (
    coco_ap_summary,
    coco_precision,
    f1_from_counts,
    flatten_records,
    summarize_ap,
)
from ..matching import ignored_last, match_records
from ..result_forms import AttributeVocabulary, convert_results
from ..results_io import check_iou_type, load_results, official_gt_coco

#: [FP-CATS] Positions of the categories with attributes (``FPParams``).
FP_CATS_WITH_ATTRIBUTES = (
    10, 7, 0, 6, 5, 4, 9, 31, 33, 3, 12, 11, 1, 2, 8, 32, 29, 28,
)  # fmt: skip

#: Category names of the official 46-category release, by position.
FP_CATEGORY_NAMES = (
    'shirt, blouse', 'top, t-shirt, sweatshirt', 'sweater', 'cardigan',
    'jacket', 'vest', 'pants', 'shorts', 'skirt', 'coat', 'dress',
    'jumpsuit', 'cape', 'glasses', 'hat',
    'headband, head covering, hair accessory', 'tie', 'glove', 'watch',
    'belt', 'leg warmer', 'tights, stockings', 'sock', 'shoe', 'bag, wallet',
    'scarf', 'umbrella', 'hood', 'collar', 'lapel', 'epaulette', 'sleeve',
    'pocket', 'neckline', 'buckle', 'zipper', 'applique', 'bead', 'bow',
    'flower', 'fringe', 'ribbon', 'rivet', 'ruffle', 'sequin', 'tassel',
)  # fmt: skip

#: [FP-THR] F1 thresholds: 0.50:0.05:0.95 then -1 (no F1 constraint),
#: computed as ``FPParams`` does so that the floats are the same.
FP_F1_THRS = np.append(
    np.linspace(
        0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True
    ),
    -1.0,
)


def binary_macro_f1(pred: np.ndarray, gt: np.ndarray, num_attrs: int):
    """[FP-F1] scikit-learn's binary macro F1 of multi-hot vectors.

    ``f1_score(true, pred, average='macro')`` on two 0/1 vectors of length
    ``num_attrs``: the mean of the F1 of label 1 and of label 0 over the
    labels present in either vector, each ``2 tp / (2 tp + fp + fn)``.

    Args:
        pred (np.ndarray): (D, V) 0/1 predicted attributes.
        gt (np.ndarray): (G, V) 0/1 true attributes.
        num_attrs (int): ``V``, the vector length (> 0).

    Returns:
        np.ndarray: (D, G) float64 F1 of every pair.
    """
    pred = pred.astype(np.int64)
    gt = gt.astype(np.int64)
    tp = pred @ gt.T  # (D, V) x (V, G) -> (D, G)
    num_pred = pred.sum(1)[:, None]  # (D, 1)
    num_gt = gt.sum(1)[None, :]  # (1, G)
    fp, fn = num_pred - tp, num_gt - tp
    tn = num_attrs - tp - fp - fn
    # label 1 occurs if a 1 is in either vector; label 0 if a 0 is
    has1, has0 = (tp + fp + fn) > 0, (tn + fp + fn) > 0
    f1_1, f1_0 = f1_from_counts(tp, fp, fn), f1_from_counts(tn, fn, fp)
    both = has1 & has0
    return np.where(both, (f1_1 + f1_0) / 2, np.where(has1, f1_1, f1_0))


class FashionpediaEval(COCOeval):
    """``COCOeval`` with the rules of Fashionpedia's ``FPEval``.

    Use it as ``COCOeval``: :meth:`evaluate`, :meth:`accumulate`, then
    :meth:`summarize`, which fills :attr:`stats_iou_f1` (AP^{IoU+F1}) and
    :attr:`stats_iou` (AP^{IoU}). The rules that differ from ``COCOeval``
    are listed in the module docstring ([FP-F1] ... [FP-RES]).

    Args:
        cocoGt (COCO): Ground truth in Fashionpedia form: top-level
            ``attributes`` and ``attribute_ids`` on every annotation; every
            annotation has ``iscrowd`` and, for ``bbox``, a ``bbox``.
        cocoDt (COCO): Results from ``cocoGt.loadRes``; every result has
            ``attribute_ids``.
        iouType (str): ``'segm'`` or ``'bbox'``.
    """

    def __init__(self, cocoGt=None, cocoDt=None, iouType: str = 'segm'):
        check_iou_type(iouType, 'FashionpediaEval')
        super().__init__(cocoGt, cocoDt, iouType)
        # [FP-THR] the last IoU threshold -1 means "no IoU constraint"
        self.params.iouThrs = np.append(self.params.iouThrs, -1.0)
        self.f1_thrs = FP_F1_THRS.copy()
        attrs = cocoGt.dataset.get('attributes') if cocoGt else None
        if not attrs:
            raise ValueError(
                'FashionpediaEval: the ground truth declares no top-level '
                '"attributes"; the F1 is taken over the vector of all '
                'declared attributes'
            )
        # [FP-F1] column of every declared attribute id, in file order
        self.attr_column = {a['id']: i for i, a in enumerate(attrs)}
        self.stats_iou_f1: Dict[str, float] = OrderedDict()
        self.stats_iou: Dict[str, float] = OrderedDict()

    # ------------------------------------------------------------ evaluate
    def _multihot(self, anns: Sequence[dict]) -> np.ndarray:
        """(N, V) 0/1 vectors of the ``attribute_ids`` of ``anns``."""
        out = np.zeros((len(anns), len(self.attr_column)), dtype=np.int64)
        for n, ann in enumerate(anns):
            for attr_id in ann['attribute_ids']:
                out[n, self.attr_column[attr_id]] = 1
        return out

    def _prepare(self) -> None:
        """``COCOeval._prepare``, then the categories with attributes,
        whose cells :meth:`evaluateImg` matches with F1s."""
        if not self.params.useCats:
            raise ValueError('FashionpediaEval needs params.useCats = 1')
        super()._prepare()
        # [FP-CATS] by category *id* here, by position in accumulate()
        self.attr_cat_ids = {
            c for c in self.params.catIds if c in FP_CATS_WITH_ATTRIBUTES
        }
        self.f1s: Dict[Tuple[int, int], np.ndarray] = {}

    def evaluateImg(self, imgId, catId, aRng, maxDet) -> Optional[dict]:
        """Match one cell at every (IoU, F1) threshold pair.

        Returns:
            dict | None: ``COCOeval``'s record with ``dtMatches`` and
            ``dtIgnore`` (T, F, D), ``gtMatches`` (T, F, G); ``F`` is 1 for
            categories without attributes (COCO's matching at ``t_F1 =
            -1``) and 11 for the others.
        """
        if catId not in self.attr_cat_ids:
            rec = super().evaluateImg(imgId, catId, aRng, maxDet)
            if rec is None:
                return None
            for key in ('dtMatches', 'gtMatches', 'dtIgnore'):
                rec[key] = rec[key][:, None, :]  # (T, N) -> (T, 1, N)
            return rec
        gt, dt = self._gts[imgId, catId], self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return None
        gtind, gt_ignore = ignored_last(gt, aRng)
        gt = [gt[i] for i in gtind]
        dt_order = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dt_order[:maxDet]]
        ious = self.ious[imgId, catId]
        num_t, num_f = len(self.params.iouThrs), len(self.f1_thrs)
        match = np.full((num_t, num_f, len(dt)), -1, dtype=np.int64)
        if len(ious) > 0 and len(gt) > 0:
            # [FP-F1] (D, G) in computeIoU's order, once for all area ranges
            if (imgId, catId) not in self.f1s:
                self.f1s[imgId, catId] = binary_macro_f1(
                    self._multihot(dt),
                    self._multihot(self._gts[imgId, catId]),
                    len(self.attr_column),
                )
            match = self._match_attr_cell(
                np.asarray(ious)[:, gtind],
                self.f1s[imgId, catId][:, gtind],
                gt_ignore,
            )
        dt_matches, dt_ignore = match_records(match, gt, gt_ignore, dt, aRng)
        matched = match >= 0
        dt_ids = np.array([d['id'] for d in dt], dtype=np.int64)
        gt_matches = np.zeros((num_t, num_f, len(gt)))
        t_idx, f_idx, d_idx = np.nonzero(matched)
        gt_matches[t_idx, f_idx, match[matched]] = dt_ids[d_idx]
        return {
            'image_id': imgId,
            'category_id': catId,
            'aRng': aRng,
            'maxDet': maxDet,
            'dtIds': [d['id'] for d in dt],
            'gtIds': [g['id'] for g in gt],
            'dtMatches': dt_matches,
            'gtMatches': gt_matches,
            'dtScores': [d['score'] for d in dt],
            'gtIgnore': gt_ignore.astype(np.int64),
            'dtIgnore': dt_ignore,
        }

    def _match_attr_cell(
        self, ious: np.ndarray, f1s: np.ndarray, gt_ignore: np.ndarray
    ) -> np.ndarray:
        """[FP-MATCH] ``FPEval``'s greedy matching of one cell.

        Vectorised over the (T, F) threshold pairs, sequential over
        detections and ground truths as ``FPEval.evaluateImg``.

        Args:
            ious (np.ndarray): (D, G) IoUs, detections by score, ground
                truths with the ignored ones last.
            f1s (np.ndarray): (D, G) F1s in the same order.
            gt_ignore (np.ndarray): (G,) bool.

        Returns:
            np.ndarray: (T, F, D) index of the matched ground truth, -1.
        """
        num_d, num_g = ious.shape
        iou_thr = np.minimum(self.params.iouThrs, 1 - 1e-10)[:, None]
        f1_thr = np.minimum(self.f1_thrs, 1 - 1e-10)[None, :]
        shape = (len(iou_thr), f1_thr.shape[1])  # (T, F)
        taken = np.zeros(shape + (num_g,), dtype=bool)
        match = np.full(shape + (num_d,), -1, dtype=np.int64)
        for d in range(num_d):
            best_iou = np.broadcast_to(iou_thr, shape).copy()
            best_f1 = np.broadcast_to(f1_thr, shape).copy()
            m = np.full(shape, -1, dtype=np.int64)
            regular_found = None
            for g in range(num_g):
                if gt_ignore[g] and regular_found is None:
                    # a detection matched to a regular ground truth stops
                    # at the first ignored one
                    regular_found = m > -1
                ok = ~taken[:, :, g]
                if regular_found is not None:
                    ok &= ~regular_found
                ok &= (ious[d, g] >= best_iou) & (f1s[d, g] >= best_f1)
                best_iou[ok] = ious[d, g]
                best_f1[ok] = f1s[d, g]
                m[ok] = g
            hit = m > -1
            match[:, :, d] = m
            t_idx, f_idx = np.nonzero(hit)
            taken[t_idx, f_idx, m[hit]] = True
        return match

    # ------------------------------------------------------------ accumulate
    def accumulate(self, p=None) -> None:
        """Precision (T, F, R, K, A, M), as ``FPEval.accumulate``.

        Categories at a position of [FP-CATS] fill every ``t_F1`` slice,
        the others only the last one (``t_F1 = -1``); the rest stays -1.
        """
        p = self.params if p is None else p
        num_t, num_f = len(p.iouThrs), len(self.f1_thrs)
        num_r, num_k = len(p.recThrs), len(p.catIds)
        num_a, num_m, num_i = len(p.areaRng), len(p.maxDets), len(p.imgIds)
        rec_thrs = np.asarray(p.recThrs)
        precision = -np.ones((num_t, num_f, num_r, num_k, num_a, num_m))
        recall = -np.ones((num_t, num_f, num_k, num_a, num_m))
        for k in range(num_k):
            # [FP-CATS] by position here
            slices = (
                list(range(num_f))
                if k in FP_CATS_WITH_ATTRIBUTES
                else [num_f - 1]
            )
            for a in range(num_a):
                start = (k * num_a + a) * num_i
                recs = [e for e in self.evalImgs[start : start + num_i] if e]
                if not recs:
                    continue
                for m, max_det in enumerate(p.maxDets):
                    self._accumulate_cell(
                        recs, max_det, slices, rec_thrs,
                        precision[:, :, :, k, a, m], recall[:, :, k, a, m],
                        p.catIds[k],
                    )  # fmt: skip
        self.eval = {
            'params': p,
            'counts': [num_t, num_f, num_r, num_k, num_a, num_m],
            'precision': precision,
            'recall': recall,
        }

    def _accumulate_cell(
        self, recs, max_det, slices, rec_thrs, precision, recall, cat_id
    ) -> None:
        """Fill (T, F, R) ``precision`` and (T, F) ``recall`` in place."""
        gt_ignore = np.concatenate([e['gtIgnore'] for e in recs])
        num_pos = np.count_nonzero(gt_ignore == 0)
        if num_pos == 0:
            return
        width = recs[0]['dtMatches'].shape[1]
        if width < len(slices):
            # FPEval fails here (IndexError): the category id says "no
            # attributes", its position says "attributes"
            raise AnnotationDefectError(
                getattr(self.cocoGt, 'source', '<ground truth>'),
                [
                    f"category id={cat_id}: not one of FPEval's categories "
                    'with attributes, but its position in the sorted '
                    'category ids is. FPEval tests ids when matching and '
                    'positions when accumulating, and fails on this file '
                    '(IndexError); give the categories ids 0..K-1 in order, '
                    'as the official Fashionpedia files do'
                ],
            )
        img, rank, scores, tps, fps = flatten_records(recs, max_det)
        # slices of the record: the same ones, or its only one (t_F1 = -1)
        src = slices if width > 1 else [0]
        tps, fps = tps[:, src], fps[:, src]  # (T, S, N)
        num_t, num_s, num_d = tps.shape
        # every (t_IoU, t_F1) pair is one threshold of COCO's accumulation
        prec = coco_precision(
            1,
            np.zeros(num_d, dtype=np.int64),
            img,
            rank,
            scores,
            tps.reshape(num_t * num_s, num_d),
            fps.reshape(num_t * num_s, num_d),
            np.array([num_pos]),
            rec_thrs,
        )  # (T * S, R, 1)
        precision[:, slices] = prec[:, :, 0].reshape(num_t, num_s, -1)
        recall[:, slices] = tps.sum(axis=2) / num_pos

    # ------------------------------------------------------------ summarize
    def _mean_precision(self, f1: bool, iou_thr=None, area='all') -> float:
        """``FPEval._summarize('ap', ...)`` over all categories at
        ``maxDets`` 100 (``==`` picks the IoU threshold, -1 if nothing is
        measured, as ``COCOeval.summarize``).

        Args:
            f1 (bool): AP^{IoU+F1} ([FP-AVG] weighting) if True, else
                AP^{IoU} (the ``t_F1 = -1`` slice).
            iou_thr (float, optional): One IoU threshold; None for all
                but the last (-1).
            area (str): Area range label.
        """
        p = self.params
        aidx = [i for i, lbl in enumerate(p.areaRngLbl) if lbl == area]
        midx = [i for i, m in enumerate(p.maxDets) if m == 100]
        s = self.eval['precision']
        if iou_thr is None:
            s = s[:-1]
        if f1:
            parts = []
            for c in range(len(p.catIds)):
                if c in FP_CATS_WITH_ATTRIBUTES:  # [FP-AVG] ten slices
                    parts.append(s[:, :-1, :, c])
                else:  # one slice
                    parts.append(s[:, -1:, :, c])
            s = np.concatenate(parts, axis=1) if parts else s[:, :0, :, 0]
            s = s[..., aidx, :][..., midx]
        else:
            s = s[:, -1:][:, :, :, :, aidx][..., midx]
        return summarize_ap(s, p.iouThrs, iou_thr, exact=True, empty=-1.0)

    def summarize(self) -> None:
        """Fill :attr:`stats_iou_f1` and :attr:`stats_iou`.

        Keys ``AP``, ``AP50``, ``AP75``, ``APs``, ``APm``, ``APl`` (area
        "all" unless named, ``maxDets`` 100), as ``FPEval``'s ``AP``,
        ``AP_IOU50``, ``AP_IOU75``, ``APs``, ``APm``, ``APl``.
        """
        if not self.eval:
            raise RuntimeError('Please run accumulate() first')
        for stats, f1 in ((self.stats_iou_f1, True), (self.stats_iou, False)):
            stats.clear()
            stats.update(
                coco_ap_summary(
                    lambda thr, area: self._mean_precision(f1, thr, area)
                )
            )


def category_list_warnings(categories: Sequence[dict]) -> List[str]:
    """[FP-CATS] Where the file's categories do not line up with FPEval's.

    Args:
        categories (Sequence[dict]): The ground truth's categories.

    Returns:
        list[str]: One message per kind of mismatch (empty if none).
    """
    cats = sorted(categories, key=lambda c: c['id'])
    out = []
    ids = [c['id'] for c in cats]
    if ids != list(range(len(ids))):
        out.append(
            'category ids are not 0..K-1 in order: FPEval takes the '
            'categories with attributes by id when matching and by '
            'position when averaging, so the two disagree on this file'
        )
    diff = [
        f'position {k}: "{cats[k]["name"] if k < len(cats) else "(none)"}"'
        f' (official "{FP_CATEGORY_NAMES[k]}")'
        for k in sorted(FP_CATS_WITH_ATTRIBUTES)
        if k >= len(cats) or cats[k].get('name') != FP_CATEGORY_NAMES[k]
    ]
    if diff:
        out.append(
            'FPEval scores attributes for the categories at fixed positions '
            'of the official 46-category list; in this file those '
            'positions hold other categories, which are scored as if they '
            'had attributes (and the official ones at other positions as if '
            'they had none): ' + '; '.join(diff)
        )
    return out


#: Output names: ``AP_iou_f1`` (AP^{IoU+F1}) and ``AP_iou`` (AP^{IoU}),
#: each with ``_50``, ``_75``, ``_s``, ``_m``, ``_l``, and the label of each
#: row of :func:`fashionpedia_table` (``{IoU}``: the IoU range).
FP_METRICS = OrderedDict(
    [('AP', ('', 'IoU={IoU}')), ('AP50', ('_50', 'IoU=0.50')),
     ('AP75', ('_75', 'IoU=0.75')), ('APs', ('_s', 'area=small')),
     ('APm', ('_m', 'area=medium')), ('APl', ('_l', 'area=large'))]
)  # fmt: skip


def _gt_defects(gt: Mapping) -> List[str]:
    """What stops ``FPEval`` on a ground-truth dict (it would raise)."""
    declared = {
        a.get('id')
        for a in gt.get('attributes') or []
        if isinstance(a, Mapping)
    }
    defects = []
    for ann in gt.get('annotations') or []:
        if not isinstance(ann, Mapping):
            continue
        ids = ann.get('attribute_ids')
        where = ann_where(ann)
        if ids is None:
            if ann.get('category_id') in FP_CATS_WITH_ATTRIBUTES:
                defects.append(
                    f'{where}: no "attribute_ids" (give [] for none); its '
                    "category is one of FPEval's categories with attributes"
                )
            continue
        if not isinstance(ids, list):
            defects.append(
                f'{where}: field "attribute_ids": expected a list, got {ids!r}'
            )
            continue
        bad = [
            i for i in ids if not isinstance(i, Hashable) or i not in declared
        ]
        if bad:
            defects.append(
                f'{where}: field "attribute_ids": ids {bad[:5]} are not '
                'declared in the top-level "attributes"'
            )
    return defects


def evaluate_fashionpedia(
    gt: dict,
    results: list,
    iou_type: str,
    gt_source: str = '<ground truth>',
    results_source: str = '<results>',
    img_ids: Optional[Sequence[int]] = None,
) -> Tuple[Dict[str, float], List[str]]:
    """Fashionpedia's protocol: AP^{IoU+F1} and AP^{IoU} as ``FPEval``.

    Args:
        gt (dict): Parsed ground truth in Fashionpedia form (top-level
            ``attributes``, ``attribute_ids`` per annotation), as
            published: a missing ``bbox``, ``iscrowd`` or ``area`` is
            filled as pycocotools computes it.
        results (list): Parsed results in Fashionpedia form
            (``attribute_ids``) or this project's form (``attributes``;
            its predicted values are the attribute ids).
        iou_type (str): ``'segm'`` or ``'bbox'``.
        gt_source (str): Ground-truth file name for messages.
        results_source (str): Results file name for messages.
        img_ids (Sequence[int], optional): Images to evaluate (with or
            without results). Defaults to every image of ``gt``, as the
            official ``test.py``.

    Returns:
        tuple: ``{name: value}`` with ``AP_iou_f1``, ``AP_iou_f1_50``,
        ``AP_iou_f1_75``, ``AP_iou_f1_s``, ``_m``, ``_l`` and the same for
        ``AP_iou`` (-1 where there is nothing to measure), and the printable
        tables.

    Raises:
        AnnotationDefectError: ground truth not in Fashionpedia form, or
            that ``FPEval`` cannot read.
        ResultsError: results that cannot be read (named).
    """
    check_iou_type(iou_type, 'The fashionpedia protocol')
    fmt = detect_format(gt) if isinstance(gt, Mapping) else None
    if fmt != FASHIONPEDIA:
        raise AnnotationDefectError(
            gt_source,
            [
                'top level: the fashionpedia protocol reads the Fashionpedia '
                'form (top-level "attributes" and "attribute_ids" per '
                f'annotation); this file is in the {fmt} form. Use '
                '--protocol attr, or the official files'
            ],
        )
    defects = _gt_defects(gt)
    if defects:
        raise AnnotationDefectError(gt_source, defects)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools' prints
        coco_gt = official_gt_coco(gt, gt_source)
    for msg in category_list_warnings(gt['categories']):
        print_log(
            f'{gt_source}: {msg}', logger='current', level=logging.WARNING
        )
    vocab = AttributeVocabulary(gt, gt_source)
    results = convert_results(results, vocab, FASHIONPEDIA, results_source)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_dt = load_results(
            coco_gt, results, iou_type, results_source, official=True
        )
        ev = FashionpediaEval(coco_gt, coco_dt, iou_type)
        ev.params.imgIds = sorted(
            coco_gt.getImgIds() if img_ids is None else img_ids
        )
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    metrics: Dict[str, float] = OrderedDict()
    for prefix, stats in (
        ('AP_iou_f1', ev.stats_iou_f1),
        ('AP_iou', ev.stats_iou),
    ):
        for key, (suffix, _) in FP_METRICS.items():
            metrics[prefix + suffix] = stats[key]
    return metrics, [fashionpedia_table(ev)]


def fashionpedia_table(ev: FashionpediaEval) -> str:
    """AP^{IoU+F1} and AP^{IoU} side by side, as a printable table."""
    thr = f'{ev.params.iouThrs[0]:0.2f}:{ev.params.iouThrs[-2]:0.2f}'
    rows = [['', 'AP^{IoU+F1} (F1=0.50:0.95)', 'AP^{IoU}']]
    for key, (_, label) in FP_METRICS.items():
        rows.append(
            [f'{key} ({label.format(IoU=thr)})']
            + [f'{s[key]:0.3f}' for s in (ev.stats_iou_f1, ev.stats_iou)]
        )
    return AsciiTable(rows, f'Fashionpedia ({ev.params.iouType})').table
