"""PACO's evaluation: category AP and object-attribute AP, exactly as PACO.

:class:`PACOeval` reproduces ``PACOEval`` of ``facebookresearch/paco``
(``paco/evaluation/paco_eval_api/eval.py``, an ``LVISEval`` subclass) and
the post-processing of ``paco/evaluation/paco_evaluation.py`` and
``paco/evaluation/utils/paco_utils.py``. It is pycocotools' ``COCOeval``
(same matching, same accumulation) with these rules, named where they
differ from COCOeval and from the project's ``pair_mAP``:

* **LVIS reading**: no crowd regions; annotations and detections with
  ``area`` 0 are dropped (LVIS keeps ``0 < area < inf``); at most 300
  detections per image over all categories (``maxDets``), chosen when the
  results are read.
* **LVIS federated rule**: the detections of a category are only evaluated
  on images where it is present or listed in ``neg_category_ids``; an
  unmatched detection of a category in ``not_exhaustive_category_ids`` is
  ignored.
* **PACO part rule** (object level): for a part whose object is exhaustively
  annotated on the image while the part is not, an unmatched part
  detection is *counted* (not ignored) when its overlap ratio with some
  object ground truth, ``inter / (area(object) - inter + 1e-7)``, is at least
  the IoU threshold or is zero with every object, and ignored otherwise
  (the official comment says the opposite; the code decides). Boxes use
  ``+ 1`` pixel widths there.
* **Pairs** (``joint_obj_attribute_categories``): every scored (category,
  attribute) pair is a class; its positives are the ground truths of the
  category that list the attribute, *whatever their unknown flags*; every
  detection of the category competes with score ``score x
  attribute_probs[attribute id]``; the pair is evaluated on images where
  it has a positive or is listed in ``neg_category_ids_attrs``, with the
  category's detections kept by the federated rule.
* **Unknown rule** (pairs): an unmatched detection is ignored when its
  *object-level* match (same IoU threshold, class score ranking) is a
  ground truth whose ``unknown_<type>`` flag is set for the attribute's
  type; unmatched at object level it inherits the object-level ignore flag
  (federated and part rules). ``pair_mAP`` instead ignores ground truths
  whose group is unknown.
* **Row order** (pairs, reproduced): the pair matching reads the object
  IoU matrix, whose rows are in class-score order, as if they were in the
  order of the results file. When the detections of a category on an image
  are not listed in decreasing score, IoUs are paired with other
  detections of the same image; :func:`evaluate_paco` warns when this
  happens.
* **Hierarchy**: ``obj_attr_AP`` is the mean over attribute types of the
  mean over the type's attributes of the mean over *object* categories of
  the pair AP (IoU 0.50:0.95, all areas); ``obj_attr_part_AP`` the same over
  part categories; attributes named ``other(pattern_marking)`` and
  ``other(material)`` are left out (``other(color)`` and
  ``other(transparency)`` are kept), and NaN (pairs without positives) is
  left out at every level.

All numbers are fractions (PACO prints them times 100).
"""

import contextlib
import io
import math
import time
from collections import OrderedDict, defaultdict
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import pycocotools.mask as mask_utils
from pycocotools.cocoeval import COCOeval

from mmmultilabel.utils.errors import ResultsError

from ..accumulate import (
    coco_ap_summary,
    coco_precision_sparse,
    flatten_records,
    summarize_ap,
)
from ..matching import ignored_last, match_ragged, match_records
from ..result_forms import PACO, AttributeVocabulary, convert_results
from ..results_io import check_iou_type
from .ground_truth import (
    PACO_EXCLUDED_ATTRS,
    PACO_MAX_DETS,
    PacoGroundTruth,
    load_paco_results,
)

__all__ = ['PACOeval', 'evaluate_paco', 'paco_summary']

#: LVIS frequency groups (``image_count`` bins) of ``APr``/``APc``/``APf``.
FREQ_GROUPS = ('r', 'c', 'f')
#: PACO's headline AP of the object and of the part categories.
HEADLINES = dict(obj='obj_attr_AP', part='obj_attr_part_AP')
NAN = float('nan')


def _nanmean(values) -> float:
    """PACO's ``get_mean_AP``: mean of the values > -1 (NaN left out)."""
    return _ap(np.asarray(list(values), dtype=np.float64))


def _ap(precision: np.ndarray) -> float:
    """PACO's ``get_AP_from_precisions``: mean of precision > -1, NaN if
    there is none."""
    return summarize_ap(precision, empty=NAN)


class PACOeval(COCOeval):
    """PACO's ``PACOEval`` as a ``COCOeval``.

    Run :meth:`evaluate`, :meth:`accumulate` and :meth:`summarize`;
    ``eval['precision']`` (T, R, K, A, 1) holds the category precision,
    ``attr_precision`` (T, R, P') that of the pairs at area "all" (the only
    one PACO reports) for the pairs that have a positive (their positions
    in ``attr_pair_ids`` are ``attr_pair_cols``; the others are -1 in
    PACO's code, which only ever makes them NaN), ``stats`` the summary
    (:func:`paco_summary`).

    Args:
        gt (PacoGroundTruth): Ground truth.
        dts (list[dict]): Results from :func:`load_paco_results`.
        iou_type (str): ``'segm'`` or ``'bbox'``.
        max_dets (int): ``maxDets`` (results are already limited to it per
            image). Defaults to 300.
        img_ids (Sequence[int], optional): Images to evaluate (as LVIS'
            ``params.img_ids``). Defaults to every image of ``gt``.
    """

    def __init__(
        self,
        gt: PacoGroundTruth,
        dts: List[dict],
        iou_type: str = 'segm',
        max_dets: int = PACO_MAX_DETS,
        img_ids: Optional[Sequence[int]] = None,
    ) -> None:
        check_iou_type(iou_type, 'PACO')
        super().__init__(iouType=iou_type)
        self.gt = gt
        self.dts = dts
        p = self.params
        if img_ids is None:
            p.imgIds = list(gt.img_ids)
        else:
            unknown = [i for i in img_ids if i not in gt.images]
            if unknown:
                raise ResultsError(
                    f'image ids {unknown[:10]} are not images of {gt.source}'
                )
            p.imgIds = sorted(set(img_ids))
        p.catIds = list(gt.cat_ids)
        p.maxDets = [max_dets if max_dets >= 0 else max(len(dts), 1)]
        self.attr_pair_ids = sorted(gt.pair_of)
        self.stats: Dict[str, float] = OrderedDict()

    # ------------------------------------------------------------ prepare
    def _prepare(self) -> None:
        """LVIS' ``_prepare``: area > 0, federated filter of detections."""
        gt, segm = self.gt, self.params.iouType == 'segm'
        imgs, cats = set(self.params.imgIds), set(self.params.catIds)
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        present = defaultdict(set)
        for ann in gt.anns:
            if (
                ann['category_id'] not in cats
                or not 0 < ann['area'] < math.inf
            ):
                continue
            # a copy as COCOeval reads it: no crowd, the mask as RLE
            g = dict(ann, ignore=ann.get('ignore', 0), iscrowd=0)
            if segm:
                g['segmentation'] = gt.to_rle(ann)
            else:
                g['bbox'] = gt.box(ann)
            self._gts[g['image_id'], g['category_id']].append(g)
            present[g['image_id']].add(g['category_id'])
        for d in self.dts:
            img_id, cat = d['image_id'], d['category_id']
            if (
                img_id not in imgs
                or cat not in cats
                or not 0 < d['area'] < math.inf
            ):
                continue
            neg = gt.images[img_id]['neg_category_ids']
            if (
                neg is not None
                and cat not in neg
                and cat not in present[img_id]
            ):
                continue
            self._dts[img_id, cat].append(d)
        self.img_nel = {
            i: gt.images[i]['not_exhaustive_category_ids'] or set()
            for i in self.params.imgIds
        }

    # ----------------------------------------------------- object level
    def evaluateImg(
        self, imgId: int, catId: int, aRng: List[float], maxDet: int
    ) -> Optional[dict]:
        """COCOeval's cell plus the LVIS federated and PACO part rules.

        Returns:
            dict | None: COCOeval's record; ``dtIgnore`` (T, D) updated.
        """
        res = super().evaluateImg(imgId, catId, aRng, maxDet)
        if res is None:
            return None
        dtm, dt_ig = res['dtMatches'], res['dtIgnore']
        nel = self.img_nel[imgId]
        if catId in nel:  # LVIS: unmatched detections are not penalised
            dt_ig |= dtm == 0
        obj = self.gt.part_to_obj.get(catId)
        if obj is not None and obj not in nel and catId in nel:
            self._part_rule(imgId, obj, aRng, res)
        return res

    def _part_rule(
        self, img_id: int, obj: int, a_rng: List[float], res: dict
    ) -> None:
        """PACO: an unmatched part detection counts unless it overlaps an
        object ground truth a little (see the module docstring)."""
        objs = self._gts[img_id, obj]
        by_id = {d['id']: d for d in self._dts[img_id, res['category_id']]}
        dts = [by_id[i] for i in res['dtIds']]  # COCOeval's order
        if not objs or not dts:
            return
        overlap = self._overlap(dts, objs)  # (D, G_obj)
        dtm, dt_ig = res['dtMatches'], res['dtIgnore']
        thrs = self.params.iouThrs
        for i, d in enumerate(dts):
            if d['area'] < a_rng[0] or d['area'] > a_rng[1]:
                continue
            row = overlap[i][overlap[i] != 0]
            for t in range(len(thrs)):
                if dtm[t, i] == 0:
                    dt_ig[t, i] = bool(row.size) and row.max() < thrs[t]

    def _overlap(self, dts: List[dict], objs: List[dict]) -> np.ndarray:
        """(D, G) ``inter / (area(obj) - inter + 1e-7)`` of every (dt, obj
        gt), PACO's ``calculate_part_*_area_outside_obj``."""
        out = np.zeros((len(dts), len(objs)))
        if self.params.iouType == 'segm':
            for j, g in enumerate(objs):
                area_g = int(mask_utils.area(g['segmentation']))
                for i, d in enumerate(dts):
                    inter = int(
                        mask_utils.area(
                            mask_utils.merge(
                                [d['segmentation'], g['segmentation']],
                                intersect=True,
                            )
                        )
                    )
                    out[i, j] = inter / (area_g - inter + 1e-7)
            return out
        for i, d in enumerate(dts):
            b = d['bbox']
            for j, g in enumerate(objs):
                o = g['bbox']
                x1, y1 = max(b[0], o[0]), max(b[1], o[1])
                x2 = min(b[2] + b[0], o[2] + o[0])
                y2 = min(b[3] + b[1], o[3] + o[1])
                inter = max(0, x2 - x1 + 1) * max(0, y2 - y1 + 1)
                out[i, j] = inter / (o[2] * o[3] - inter + 1e-7)
        return out

    # ------------------------------------------------------- pair level
    def evaluate(self) -> None:
        """Object-level cells (COCOeval), then the cells of every pair."""
        with contextlib.redirect_stdout(io.StringIO()):
            super().evaluate()
        self._evaluate_pairs()

    def _pair_cells(self) -> set:
        """``(image, pair)`` cells evaluated with the detections of the
        pair's category (``_prepare_joint_attr``)."""
        gt = self.gt
        pos_imgs = defaultdict(set)
        for img_id, j in gt.pair_positives:
            pos_imgs[img_id].add(j)
        pairs_of_cat = defaultdict(list)  # the last entry of a pair id wins
        for j, (cat, _) in gt.pair_of.items():
            pairs_of_cat[cat].append(j)
        # a cell without detections is only evaluated for its positives,
        # which _evaluate_pairs finds anyway: only (image, category) cells
        # with detections are looked at, not every image x pair
        cells = set()
        for (img_id, cat), dts in self._dts.items():
            if not dts:
                continue
            neg = gt.images[img_id]['neg_category_ids_attrs']
            for j in pairs_of_cat.get(cat, ()):
                if neg is None or j in neg or j in pos_imgs[img_id]:
                    cells.add((img_id, j))
        return cells

    def _evaluate_pairs(self) -> None:
        p = self.params
        cells = self._pair_cells()
        # PACO reports the pair APs at area "all" only
        a_all = p.areaRngLbl.index('all')
        self.attr_eval_imgs: Dict[Tuple[int, int], dict] = {}
        self.row_order_cats = set()
        img_index = {i: n for n, i in enumerate(p.imgIds)}
        cat_index = {c: n for n, c in enumerate(p.catIds)}
        num_imgs = len(p.imgIds)
        keys = cells | {k for k in self.gt.pair_positives if k[0] in img_index}
        todo = []
        for img_id, j in sorted(keys, key=lambda k: (img_index[k[0]], k[1])):
            cat, attr = self.gt.pair_of[j]
            if not self._gts[img_id, cat] and not self._dts[img_id, cat]:
                continue
            obj_res = self.evalImgs[
                (cat_index[cat] * len(p.areaRng) + a_all) * num_imgs
                + img_index[img_id]
            ]
            pos = set(self.gt.pair_positives.get((img_id, j), ()))
            cell = self._pair_cell(
                img_id, cat, attr, pos, (img_id, j) in cells, obj_res
            )
            cell['gt_ignore'] = self._gt_ignore(cell, p.areaRng[a_all])
            todo.append(((j, img_id), cell, obj_res))
        matches = self._match_cells([cell for _, cell, _ in todo])
        for (key, cell, obj_res), match in zip(todo, matches):
            self.attr_eval_imgs[key] = self._evaluate_pair_img(
                cell, p.areaRng[a_all], obj_res, match
            )

    def _pair_cell(
        self,
        img_id: int,
        cat: int,
        attr: int,
        pos: set,
        with_dts: bool,
        obj_res: dict,
    ) -> dict:
        """What PACO's ``evaluate_img_attr`` computes the same way for every
        area range of one (image, pair): its positives ``pos``, and the
        category's detections if ``with_dts``."""
        gt_obj, dt_obj = self._gts[img_id, cat], self._dts[img_id, cat]
        gt_sel = [n for n, g in enumerate(gt_obj) if g['id'] in pos]
        # PACO keeps the category's detections in file order here ...
        dts = dt_obj if with_dts else []
        probs = np.array(
            [d['attribute_probs'][attr] for d in dts], dtype=float
        )
        scores = np.array([d['score'] for d in dts], dtype=float) * probs
        dt_idx = np.argsort(-scores, kind='mergesort')
        rows = None
        if dts and gt_sel:
            # ... and reorders the IoU rows, which are in score order, by
            # the positions of that file order (official row order)
            rows = np.asarray(self.ious[img_id, cat])[:, gt_sel][dt_idx, :]
            if (img_id, cat) not in self.row_order_cats and any(
                a['id'] != b for a, b in zip(dt_obj, obj_res['dtIds'])
            ):
                self.row_order_cats.add((img_id, cat))
        a_type = self.gt.attr_type[attr]
        return dict(
            gts=[gt_obj[n] for n in gt_sel],
            dts=[dts[n] for n in dt_idx],
            scores=scores[dt_idx],
            rows=rows,
            unknown={
                g['id']: bool(g.get(f'unknown_{a_type}')) for g in gt_obj
            },
        )

    @staticmethod
    def _gt_ignore(cell: dict, a_rng: List[float]) -> np.ndarray:
        """(G,) bool, positives ignored in the area range; the cell's ground
        truths are reordered as COCOeval orders them for matching
        (:func:`~..matching.ignored_last`)."""
        order, ignore = ignored_last(cell['gts'], a_rng)
        cell['gts'] = [cell['gts'][n] for n in order]
        if cell['rows'] is not None:
            cell['rows'] = cell['rows'][:, order]
        return ignore

    def _match_cells(self, cells: List[dict]) -> List[np.ndarray]:
        """COCO's greedy matching of every pair cell at once.

        PACO matches each (image, pair) cell with LVIS' loop (COCOeval's
        without crowd regions); :func:`~..matching.match_ragged` makes the
        same choices for all cells together, which a PACO-sized file (about
        10^5 pair cells) needs.

        Returns:
            list[np.ndarray]: Per cell, (T, D) index of the matched ground
            truth (in the cell's order) or -1.
        """
        num_dets = [len(c['dts']) for c in cells]
        num_gts = [len(c['gts']) for c in cells]
        # a cell has IoU rows unless it has no detection or no positive
        ious = [c['rows'].ravel() for c in cells if c['rows'] is not None]
        flat = match_ragged(
            num_dets,
            num_gts,
            np.concatenate(ious) if ious else np.zeros(0),
            np.concatenate(
                [np.zeros(0, bool)] + [c['gt_ignore'] for c in cells]
            ),
            np.zeros(sum(num_gts), dtype=bool),  # no crowd in LVIS
            self.params.iouThrs,
        )  # (T, sum(num_dets))
        return np.split(flat, np.cumsum(num_dets, dtype=np.int64)[:-1], axis=1)

    def _evaluate_pair_img(
        self, cell: dict, a_rng: List[float], obj_res: dict, match
    ) -> dict:
        """PACO's ``evaluate_img_attr`` for one (image, pair, area range).

        Args:
            cell (dict): From :meth:`_pair_cell`, ground truths ordered by
                :meth:`_gt_ignore`.
            a_rng (list[float]): The area range.
            obj_res (dict): The object-level record of the cell.
            match (np.ndarray): (T, D) matched ground truth or -1.

        Returns:
            dict: ``dtScores`` (D,), ``dtMatches`` (T, D) matched gt id or
            0, ``dtIgnore`` (T, D) bool, ``num_pos`` (non-ignored
            positives).
        """
        dts, gt_ig = cell['dts'], cell['gt_ignore']
        dtm, dt_ig = match_records(match, cell['gts'], gt_ig, dts, a_rng)
        # unknown rule, from the object-level match of each detection
        free = (dtm == 0) & ~dt_ig
        if free.any():
            col = {i: n for n, i in enumerate(obj_res['dtIds'])}
            cols = [col[d['id']] for d in dts]
            obj_m = obj_res['dtMatches'][:, cols]
            obj_ig = obj_res['dtIgnore'][:, cols]
            unknown = cell['unknown']
            matched = obj_m[free]
            value = obj_ig[free].astype(bool)
            hit = matched > 0
            value[hit] = [unknown[int(g)] for g in matched[hit].tolist()]
            dt_ig[free] = value
        return dict(
            dtScores=cell['scores'],
            dtMatches=dtm,
            dtIgnore=dt_ig,
            num_pos=int(np.count_nonzero(~gt_ig)),
        )

    # ------------------------------------------------------- accumulate
    def accumulate(self, p=None) -> None:
        """COCOeval's accumulation for categories and for pairs."""
        with contextlib.redirect_stdout(io.StringIO()):
            super().accumulate(p)
        p = self.params
        keys, recs = list(self.attr_eval_imgs), self.attr_eval_imgs.values()
        if not keys:
            self.attr_pair_cols = np.zeros(0, dtype=np.int64)
            self.attr_precision = np.zeros((len(p.iouThrs), len(p.recThrs), 0))
            return
        pair_index = {j: n for n, j in enumerate(self.attr_pair_ids)}
        img_index = {i: n for n, i in enumerate(p.imgIds)}
        rec_cls = np.array([pair_index[j] for j, _ in keys], dtype=np.int64)
        rec_img = np.array([img_index[i] for _, i in keys], dtype=np.int64)
        num_pos = np.zeros(len(self.attr_pair_ids), dtype=np.int64)
        np.add.at(num_pos, rec_cls, [e['num_pos'] for e in recs])
        rec, rank, score, tp, fp = flatten_records(list(recs))
        self.attr_pair_cols, self.attr_precision = coco_precision_sparse(
            rec_cls[rec], rec_img[rec], rank, score, tp, fp, num_pos, p.recThrs
        )

    def pair_ap(self) -> Dict[int, float]:
        """PACO's AP of every pair id (``get_AP_from_precisions`` at IoU
        0.50:0.95, area "all"); NaN for a pair without positive."""
        col = {c: n for n, c in enumerate(self.attr_pair_cols.tolist())}
        return {
            j: _ap(self.attr_precision[:, :, col[n]]) if n in col else NAN
            for n, j in enumerate(self.attr_pair_ids)
        }

    # -------------------------------------------------------- summarize
    def summarize(self) -> None:
        """Fill :attr:`stats` (see :func:`paco_summary`)."""
        self.stats = paco_summary(self)


def _lvis_ap(precision, params, iou_thr=None, area='all', cats=None) -> float:
    """LVIS' ``_summarize('ap')`` on (T, R, K, A) precision (``==`` picks
    the IoU threshold, -1 if nothing is measured)."""
    if cats is not None:
        precision = precision[:, :, cats]
    precision = precision[..., params.areaRngLbl.index(area)]
    return summarize_ap(precision, params.iouThrs, iou_thr, True, -1.0)


def paco_summary(ev: PACOeval) -> Dict[str, float]:
    """Metrics of an evaluated and accumulated :class:`PACOeval`.

    Keys: ``obj_attr_AP`` and ``obj_attr_part_AP`` (PACO's headline),
    ``obj_attr_AP_<type>`` / ``obj_attr_part_AP_<type>`` (per attribute
    type), LVIS' category ``AP``, ``AP50``, ``AP75``, ``APs``, ``APm``,
    ``APl`` (and ``APr``, ``APc``, ``APf`` when every category has a
    ``frequency``), PACO's ``obj_AP`` (mean over objects) and
    ``obj_part_AP`` (per part name over its ``obj:part`` categories, then
    over part names). Fractions; NaN where nothing is measured, -1 where
    LVIS prints -1.
    """
    gt, p = ev.gt, ev.params
    tables = pair_tables(ev)
    stats: Dict[str, float] = OrderedDict(
        (key, tables[kind]['AP']) for kind, key in HEADLINES.items()
    )
    for kind, key in HEADLINES.items():
        for t, v in tables[kind]['types'].items():
            stats[f'{key}_{t}'] = v
    prec = ev.eval['precision'][..., 0]  # (T, R, K, A)
    stats.update(coco_ap_summary(lambda thr, a: _lvis_ap(prec, p, thr, a)))
    freq = [gt.cats[c].get('frequency') for c in p.catIds]
    if all(f in FREQ_GROUPS for f in freq):
        for g in FREQ_GROUPS:
            idx = [n for n, f in enumerate(freq) if f == g]
            stats[f'AP{g}'] = _lvis_ap(prec, p, cats=idx)
    cat_index = {c: n for n, c in enumerate(p.catIds)}
    per_cat = {c: _ap(prec[:, :, cat_index[c], 0]) for c in p.catIds}
    order = list(gt.cats)  # file order, as PACO iterates
    stats['obj_AP'] = _nanmean(per_cat[c] for c in order if c in gt.obj_ids)
    parts = OrderedDict()
    for c in order:
        name = gt.cats[c]['name']
        if ':' in name:
            parts.setdefault(name.split(':')[-1], []).append(per_cat[c])
    stats['obj_part_AP'] = _nanmean(_nanmean(v) for v in parts.values())
    return stats


def pair_tables(ev: PACOeval) -> dict:
    """PACO's ``heirachrichal_APs``: AP per pair, attribute and type.

    Returns:
        dict: ``pairs`` (``[(category name, attribute name, AP)]``) and,
        for ``obj`` and ``part`` (the categories of :data:`HEADLINES`),
        ``attrs`` (``{attribute name: AP}``), ``types`` (``{type: AP}``)
        and the headline ``AP``.
    """
    gt = ev.gt
    pair_ap = ev.pair_ap()
    per_attr = {'obj': OrderedDict(), 'part': OrderedDict()}
    for j, cat, attr in gt.joint:
        if gt.attr_names.get(attr) in PACO_EXCLUDED_ATTRS:
            continue
        kind = 'obj' if cat in gt.obj_ids else 'part'
        per_attr[kind].setdefault(attr, []).append(pair_ap[j])
    out = dict(
        pairs=[
            (gt.cats[c]['name'], gt.attr_names.get(a, str(a)), pair_ap[j])
            for j, c, a in sorted(gt.joint)
        ]
    )
    for kind in HEADLINES:
        attr_ap = {a: _nanmean(v) for a, v in per_attr[kind].items()}
        types = OrderedDict(
            (t, _nanmean(attr_ap[a] for a in ids if a in attr_ap))
            for t, ids in gt.attr_types.items()
        )
        out[kind] = dict(
            attrs=OrderedDict(
                (gt.attr_names.get(a, str(a)), v) for a, v in attr_ap.items()
            ),
            types=types,
            AP=_nanmean(types.values()),
        )
    return out


def _fmt(value: float) -> str:
    return 'nan' if value != value else f'{value:.4f}'


def paco_tables(ev: PACOeval) -> List[str]:
    """Printable tables: summary, per type, per attribute, per pair."""
    from terminaltables import AsciiTable

    tables = pair_tables(ev)
    obj, part = tables['obj'], tables['part']
    rows = [['metric', 'value']] + [[k, _fmt(v)] for k, v in ev.stats.items()]
    out = [AsciiTable(rows, 'PACO ' + ev.params.iouType).table]
    types = [['type', *HEADLINES.values()]] + [
        [t, _fmt(obj['types'][t]), _fmt(part['types'][t])]
        for t in ev.gt.attr_types
    ]
    out.append(AsciiTable(types, 'per attribute type').table)
    attrs = [['attribute', 'objects', 'parts']] + [
        [n, _fmt(obj['attrs'].get(n, NAN)), _fmt(part['attrs'].get(n, NAN))]
        for n in dict.fromkeys([*obj['attrs'], *part['attrs']])
    ]
    out.append(AsciiTable(attrs, 'per attribute (mean over categories)').table)
    pairs = [['category', 'attribute', 'AP']] + [
        [c, a, _fmt(v)] for c, a, v in tables['pairs']
    ]
    out.append(AsciiTable(pairs, 'per (category, attribute) pair').table)
    return out


def evaluate_paco(
    gt: Mapping,
    results: Sequence[Mapping],
    iou_type: str,
    max_dets: int = PACO_MAX_DETS,
    gt_source: str = '<ground truth>',
    results_source: str = '<results>',
    img_ids: Optional[Sequence[int]] = None,
) -> Tuple[Dict[str, float], List[str]]:
    """PACO's evaluation of results on a native PACO dict.

    Args:
        gt (Mapping): PACO annotation dict, as published.
        results (Sequence[Mapping]): Results with ``attribute_probs``
            (PACO's form), or with ``attribute_scores`` / ``attributes``
            (the project's own form, converted by
            :func:`~.result_forms.convert_results`).
        iou_type (str): ``'segm'`` or ``'bbox'``.
        max_dets (int): Detections per image. Defaults to 300 (PACO).
        gt_source (str): File name of ``gt``, for messages.
        results_source (str): File name of ``results``, for messages.
        img_ids (Sequence[int], optional): Images to evaluate, with or
            without results (results on other images are not read).
            Defaults to every image of ``gt``, as PACO's evaluation.

    Returns:
        tuple[dict, list[str]]: Metrics (no IoU-type prefix, see
        :func:`paco_summary`) and printable lines/tables, which start with
        the notes on the file (skipped annotations, missing fields, ...).

    Raises:
        AnnotationDefectError: Ground truth that cannot be read, named by
            file, id and field.
        ResultsError: Results that cannot be read, named by file, result
            and field.
    """
    tic = time.perf_counter()
    index = PacoGroundTruth(gt, source=gt_source)
    if any(
        isinstance(r, Mapping)
        and ('attribute_scores' in r or 'attributes' in r)
        for r in results
    ):
        vocab = AttributeVocabulary(gt, gt_source)
        results = convert_results(results, vocab, PACO, results_source)
    dts = load_paco_results(
        index, results, iou_type, max_dets=max_dets, source=results_source
    )
    ev = PACOeval(index, dts, iou_type, max_dets=max_dets, img_ids=img_ids)
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    notes = [f'{gt_source}: {n}' for n in index.notes]
    if ev.row_order_cats:
        notes.append(
            f'{results_source}: on {len(ev.row_order_cats)} (image, '
            'category) cell(s) the detections are not listed in decreasing '
            "score; PACO's pair matching then reads the IoUs of other "
            'detections of the same category and image (reproduced; sort '
            'the results by score to avoid it)'
        )
    lines = [
        f'PACO {iou_type}: {len(dts)} detections, '
        f'{time.perf_counter() - tic:.2f}s'
    ] + notes
    return dict(ev.stats), lines + paco_tables(ev)
