"""COCO evaluation of instances that carry attribute groups.

:class:`AttrCOCOeval` is pycocotools' ``COCOeval`` (category AP computed by
the parent class, untouched) plus three attribute evaluations that reuse
its IoUs, its per-(image, category) cells and its ``maxDets``:

* **attribute accuracy**: over the detections that COCO's matching pairs
  with a regular ground truth of their category at IoU ``attr_iou_thr``,
  the accuracy of every single-label group and the macro F1 of every
  multi-label group, ignoring ground truths whose group is unknown;
* **attribute-aware AP** (``attr_mAP``): COCO AP in which a detection only
  matches a ground truth whose known attributes it predicts right (exact
  value for single-label groups, F1 >= ``attr_f1_thr`` for multi-label
  groups). It is COCOeval with the IoU of incompatible pairs set below
  every threshold;
* **object-attribute AP** (``pair_mAP``, PACO-like; PACO's own
  ``obj-attr-AP`` is the ``paco`` protocol, :mod:`.paco_eval`): every
  (category, attribute value) pair is a class whose positives are the
  ground truths of the category that have the value; ground truths that
  have another value are not positives, ground truths whose group is
  unknown are ignored; every detection of the category competes with
  score ``score x probability of the value``.

The exact definitions are in ``docs/evaluation.md``. Ground truth and
results are COCO objects whose annotations carry ``attributes`` (``{group:
value name or index | [names] for multi-label}``, a missing group is
unknown); results also carry ``attribute_scores`` (``{group: [probability
of every value]}``, a missing group has probability 0 everywhere).
"""

from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
from pycocotools.cocoeval import COCOeval

from mmmultilabel.utils import (
    UNKNOWN,
    AttributeGroup,
    AttributeSpec,
    AttributeSpecError,
    gc_paused,
)

from ..accumulate import (
    coco_precision,
    dense_precision,
    f1_from_counts,
    summarize_ap,
)
from ..matching import NO_MATCH_IOU, match_ragged, ragged_starts
from ..result_forms import check_attribute_scores, label_dtype
from ..results_io import check_iou_type
from .pair_precision import (
    block_entries,
    match_flags,
    ragged_index,
    value_pair_precision,
)


class _AttrEval(dict):
    """``AttrCOCOeval.attr_eval``: ``'pair_precision'`` (T, R, K x S), -1
    for the pair classes without positive, is built when it is read (the
    evaluation keeps only the columns of the classes with a positive, in
    :attr:`pair_columns`: the dense array is about 110 MB at Fashionpedia
    size, mostly -1). It holds no reference to the evaluation, so that the
    evaluation is freed as soon as it is dropped."""

    def __init__(self, **items) -> None:
        super().__init__(**items)
        self.accumulated = False
        #: (classes (A, ), precision (T, R, A), number of pair classes)
        self.pair_columns: Optional[tuple] = None

    def __contains__(self, key) -> bool:
        if key == 'pair_precision':
            return self.accumulated
        return super().__contains__(key)

    def __missing__(self, key):
        if key == 'pair_precision' and self.accumulated:
            return dense_precision(*self.pair_columns)
        raise KeyError(key)


class AttrCOCOeval(COCOeval):
    """``COCOeval`` extended with attribute metrics.

    Use it as ``COCOeval``: set ``params``, then call :meth:`evaluate`,
    :meth:`accumulate` and :meth:`summarize`. ``stats`` and ``eval`` are
    exactly those of ``COCOeval``; the attribute results are in
    :attr:`attr_stats` (see :meth:`summarize`) and :attr:`attr_eval`.

    Args:
        cocoGt (COCO): Ground truth; annotations may carry ``attributes``.
        cocoDt (COCO): Results from ``cocoGt.loadRes``; annotations may
            carry ``attributes`` and ``attribute_scores``.
        iouType (str): ``'segm'`` or ``'bbox'``.
        attribute_groups (list[dict] | AttributeSpec, optional): Attribute
            groups. Defaults to ``cocoGt.dataset['attribute_groups']``.
        attr_iou_thr (float): IoU threshold of the matches whose attributes
            are scored by accuracy / F1; must be one of
            ``params.iouThrs``. Defaults to 0.5.
        attr_f1_thr (float): Minimum F1 for a multi-label group to count as
            right in the attribute-aware AP. Defaults to 0.5.
    """

    #: (detection, true positive) comparisons made at once by the pair
    #: evaluation when it counts the detections ranked before a true
    #: positive.
    PAIR_BLOCK = 1 << 22

    def __init__(
        self,
        cocoGt=None,
        cocoDt=None,
        iouType: str = 'segm',
        attribute_groups: Union[Sequence[dict], AttributeSpec, None] = None,
        attr_iou_thr: float = 0.5,
        attr_f1_thr: float = 0.5,
    ) -> None:
        check_iou_type(iouType, 'AttrCOCOeval')
        super().__init__(cocoGt, cocoDt, iouType)
        if attribute_groups is None and cocoGt is not None:
            attribute_groups = cocoGt.dataset.get('attribute_groups')
        self.spec = (
            attribute_groups
            if isinstance(attribute_groups, AttributeSpec)
            else AttributeSpec(attribute_groups)
        )
        self.attr_iou_thr = float(attr_iou_thr)
        self.attr_f1_thr = float(attr_f1_thr)
        self.attr_eval: dict = {}
        self.attr_stats: Dict[str, float] = OrderedDict()

    # ------------------------------------------------------------ evaluate
    def evaluate(self) -> None:
        """Run COCOeval's evaluation, then match with attributes."""
        if not self.params.useCats:
            raise ValueError(
                'AttrCOCOeval evaluates per category: params.useCats must '
                'be 1'
            )
        super().evaluate()
        p = self.params
        if 'all' not in p.areaRngLbl:
            raise ValueError(
                'AttrCOCOeval needs the area range "all" in '
                f'params.areaRngLbl, got {p.areaRngLbl}'
            )
        self._t_attr = self.iou_index(self.attr_iou_thr, 'attr_iou_thr')
        with gc_paused():  # one row per instance, cached (gc_paused)
            self._encode_gts()
            self._encode_dts()
        pairs_matched = self._collect_cells()
        self.attr_eval = _AttrEval(
            pairs_matched=pairs_matched, matches=self._evaluate_attr_aware()
        )
        self.attr_eval.pair_columns = self._evaluate_value_pairs() + (
            len(p.catIds) * self.spec.num_values,
        )

    def iou_index(self, thr: float, name: str = 'iou_thr') -> int:
        """Index of ``thr`` in ``params.iouThrs`` (``np.isclose``); raises
        naming the argument ``name`` when it is not one of them."""
        rows = np.nonzero(np.isclose(self.params.iouThrs, thr))[0]
        if not len(rows):
            raise ValueError(
                f'{name}={thr} is not one of the IoU thresholds '
                f'{np.round(self.params.iouThrs, 3).tolist()}'
            )
        return int(rows[0])

    def _source(self, coco) -> str:
        return getattr(coco, 'source', '<in-memory COCO>')

    def _encode(self, attributes, cache: dict, where: str) -> tuple:
        """Label row of one ``attributes`` mapping, memoised."""
        if attributes is None:
            attributes = {}
        if not isinstance(attributes, Mapping):
            raise AttributeSpecError(
                f'{where}: "attributes" must map group name to value, e.g. '
                f'{{"color": "red"}}; got {attributes!r}'
            )
        try:
            key = tuple(
                (k, tuple(v) if isinstance(v, list) else v)
                for k, v in attributes.items()
            )
            row = cache.get(key)
        except TypeError:  # an unhashable value: encode() names it
            key = row = None
        if row is None:
            try:
                row = tuple(self.spec.encode(attributes))
            except (AttributeSpecError, TypeError) as err:
                raise AttributeSpecError(f'{where}: {err}') from None
            if key is not None:
                cache[key] = row
        return row

    def _encode_gts(self) -> None:
        """Label rows of the evaluated ground truths, by annotation id
        (``_gt_row``; ``_gt_ids`` maps a row back to its id)."""
        cache: dict = {}
        src = self._source(self.cocoGt)
        rows, self._gt_row = [], {}
        for gts in self._gts.values():
            for g in gts:
                if g['id'] in self._gt_row:
                    continue
                where = (
                    f'{src}: annotation id={g["id"]} (image id='
                    f'{g["image_id"]})'
                )
                self._gt_row[g['id']] = len(rows)
                rows.append(self._encode(g.get('attributes'), cache, where))
        self._gt_ids = np.array(list(self._gt_row), dtype=np.int64)
        self._gt_labels = np.array(rows, dtype=label_dtype(self.spec)).reshape(
            len(rows), self.spec.num_label_columns
        )

    def _encode_dts(self) -> None:
        """Label rows and value probabilities of the results, by id."""
        cache: dict = {}
        src = self._source(self.cocoDt)
        ids = sorted(self.cocoDt.anns)
        self._dt_ids = np.array(ids, dtype=np.int64)
        self._dt_row = {i: r for r, i in enumerate(ids)}
        labels = np.empty(
            (len(ids), self.spec.num_label_columns),
            dtype=label_dtype(self.spec),
        )
        probs = np.zeros((len(ids), self.spec.num_values))
        slices = self.spec.score_slices
        for r, i in enumerate(ids):
            ann = self.cocoDt.anns[i]
            where = (
                f'{src}: result #{i} (image id={ann["image_id"]}, '
                f'category id={ann["category_id"]})'
            )
            labels[r] = self._encode(ann.get('attributes'), cache, where)
            scores = ann.get('attribute_scores') or {}
            check_attribute_scores(
                scores, self.spec, where, AttributeSpecError
            )
            for name, values in scores.items():
                probs[r, slices[name]] = values
        self._dt_labels, self._dt_probs = labels, probs

    def _collect_cells(self) -> Tuple[np.ndarray, np.ndarray]:
        """Ragged arrays of the (image, category) cells of ``COCOeval``.

        A cell holds the detections that ``COCOeval.evaluateImg`` took (at
        most ``maxDets[-1]``, highest score first, ties in result order:
        ``dtIds`` of ``self.evalImgs``) and the ground truths in
        ``COCOeval``'s order, so that ``self.ious`` indexes them directly.

        Returns:
            tuple[np.ndarray, np.ndarray]: (detection row, ground-truth
            row) of COCO's category matches at ``attr_iou_thr``, area
            "all", ``maxDets[-1]``, to a regular (not ignored) ground
            truth: the pairs that attribute accuracy / F1 score.
        """
        p = self.params
        num_imgs, num_areas = len(p.imgIds), len(p.areaRng)
        a = p.areaRngLbl.index('all')
        lo, hi = p.areaRng[a]
        keys, nd, ng, ious = [], [], [], []
        det_rows, det_scores, det_out = [], [], []
        gt_rows, gt_ignore, gt_crowd = [], [], []
        pair_dets, pair_gts = [], []
        for k, cat_id in enumerate(p.catIds):
            for i, img_id in enumerate(p.imgIds):
                e = self.evalImgs[(k * num_areas + a) * num_imgs + i]
                if e is None:  # no ground truth and no detection
                    continue
                gts = self._gts.get((img_id, cat_id), [])
                dts = [self.cocoDt.anns[d] for d in e['dtIds']]
                keys.append((k, i))
                nd.append(len(dts))
                ng.append(len(gts))
                det_rows.extend(self._dt_row[d['id']] for d in dts)
                det_scores.extend(d['score'] for d in dts)
                det_out.extend(d['area'] < lo or d['area'] > hi for d in dts)
                gt_rows.extend(self._gt_row[g['id']] for g in gts)
                gt_ignore.extend(
                    bool(g['ignore']) or g['area'] < lo or g['area'] > hi
                    for g in gts
                )
                gt_crowd.extend(bool(g['iscrowd']) for g in gts)
                iou = self.ious[img_id, cat_id]
                if len(dts) and len(gts):
                    ious.append(np.asarray(iou, dtype=np.float64).ravel())
                matched = e['dtMatches'][self._t_attr]
                tp = (matched > 0) & ~e['dtIgnore'][self._t_attr].astype(bool)
                pair_dets.extend(
                    self._dt_row[d]
                    for d in np.asarray(e['dtIds'])[tp].tolist()
                )
                pair_gts.extend(self._gt_row[g] for g in matched[tp].tolist())
        self._cells = dict(
            k=np.array([k for k, _ in keys], dtype=np.int64),
            i=np.array([i for _, i in keys], dtype=np.int64),
            nd=np.array(nd, dtype=np.int64),
            ng=np.array(ng, dtype=np.int64),
            det_rows=np.array(det_rows, dtype=np.int64),
            det_scores=np.array(det_scores, dtype=np.float64),
            det_out=np.array(det_out, dtype=bool),
            gt_rows=np.array(gt_rows, dtype=np.int64),
            gt_ignore=np.array(gt_ignore, dtype=bool),
            gt_crowd=np.array(gt_crowd, dtype=bool),
            ious=np.concatenate(ious) if ious else np.zeros(0),
        )
        return (
            np.array(pair_dets, dtype=np.int64),
            np.array(pair_gts, dtype=np.int64),
        )

    # ---------------------------------------------------- attribute-aware AP
    def compatible(
        self, dt_labels: np.ndarray, gt_labels: np.ndarray
    ) -> np.ndarray:
        """Whether predicted attributes are right for a ground truth.

        A group that is unknown in the ground truth is always right. A
        single-label group is right when the value is equal. A multi-label
        group is right when ``F1 >= attr_f1_thr`` (see
        :func:`multilabel_f1`). A prediction with an unknown group is wrong
        wherever the ground truth knows it.

        Args:
            dt_labels (np.ndarray): (P, D) predicted label rows.
            gt_labels (np.ndarray): (P, D) ground-truth label rows.

        Returns:
            np.ndarray: (P,) bool.
        """
        ok = np.ones(len(gt_labels), dtype=bool)
        for group, sl in zip(self.spec, self.spec.label_slices.values()):
            gt, dt = gt_labels[:, sl], dt_labels[:, sl]
            unknown = gt[:, 0] == UNKNOWN
            if group.multi_label:
                right = multilabel_f1(dt, gt) >= self.attr_f1_thr
            else:
                right = dt[:, 0] == gt[:, 0]
            ok &= unknown | right
        return ok

    def _evaluate_attr_aware(self) -> dict:
        """True / false positives of the attribute-aware matching.

        Returns:
            dict: per detection of the cells (N,): ``cls``, ``img``,
            ``rank`` (in its cell), ``ids`` (result id), ``scores``;
            ``tp``, ``fp`` (T, N) bool (neither: ignored, as COCO's
            ``dtIgnore``); ``num_pos`` (K,) non-ignored ground truths and
            ``num_classes`` K.
        """
        # every cell in one batched matching (match_ragged) instead of
        # evaluateImg's Python loops per cell: the evaluation time is what
        # tools/analysis_tools/bench_metric.py holds to 1.5x CocoMetric's
        c = self._cells
        det_start, gt_start = ragged_starts(c['nd']), ragged_starts(c['ng'])
        cell, row, col = block_entries(c['nd'], c['ng'])
        ok = self.compatible(
            self._dt_labels[c['det_rows'][det_start[cell] + row]],
            self._gt_labels[c['gt_rows'][gt_start[cell] + col]],
        )
        match = match_ragged(
            c['nd'],
            c['ng'],
            np.where(ok, c['ious'], NO_MATCH_IOU),
            c['gt_ignore'],
            c['gt_crowd'],
            self.params.iouThrs,
        )
        det_cell, rank = ragged_index(c['nd'])
        tp, fp = match_flags(
            match, gt_start[det_cell], c['gt_ignore'], c['det_out']
        )
        num_classes = len(self.params.catIds)
        gt_class = np.repeat(c['k'], c['ng'])
        return dict(
            cls=c['k'][det_cell],
            img=c['i'][det_cell],
            rank=rank,
            ids=self._dt_ids[c['det_rows']],
            scores=c['det_scores'],
            tp=tp,
            fp=fp,
            num_pos=np.bincount(
                gt_class[~c['gt_ignore']], minlength=num_classes
            ),
            num_classes=num_classes,
        )

    # ------------------------------------------------ object-attribute AP
    def _evaluate_value_pairs(self) -> Tuple[np.ndarray, np.ndarray]:
        """Precision of the PACO-like (category, value) pair classes that
        have a positive, by :func:`.value_pair_precision` (whose module
        says what it leaves out, and why the numbers stay COCOeval's).

        Returns:
            tuple[np.ndarray, np.ndarray]: (A,) ascending class indices
            ``k * S + s`` with a positive and their (T, R, A) precision at
            area "all" and ``maxDets[-1]``.
        """
        c = self._cells
        gt_labels = self._gt_labels[c['gt_rows']]
        # (G, S) whether each ground truth has / does not know each value
        positive = np.zeros((len(gt_labels), self.spec.num_values), bool)
        unknown = np.zeros_like(positive)
        for group, lsl, ssl in zip(
            self.spec,
            self.spec.label_slices.values(),
            self.spec.score_slices.values(),
        ):
            cols = gt_labels[:, lsl]
            unknown[:, ssl] = cols[:, :1] == UNKNOWN
            positive[:, ssl] = value_hot(group, cols)
        return value_pair_precision(
            c,
            self._dt_probs,
            positive,
            unknown,
            self.params.iouThrs,
            self.params.recThrs,
            block=self.PAIR_BLOCK,
        )

    # ------------------------------------------------------------ accumulate
    def accumulate(self, p=None) -> None:
        """Run COCOeval's accumulation, then the attribute ones.

        ``attr_eval['precision']`` (T, R, K) and
        ``attr_eval['pair_precision']`` (T, R, K x S) are, at area "all"
        and ``maxDets[-1]``, what ``COCOeval.accumulate`` would give on the
        attribute matches.
        """
        super().accumulate(p)
        m = self.attr_eval['matches']
        self.attr_eval['precision'] = coco_precision(
            m['num_classes'],
            m['cls'],
            m['img'],
            m['rank'],
            m['scores'],
            m['tp'],
            m['fp'],
            m['num_pos'],
            self.params.recThrs,
        )
        self.attr_eval.accumulated = True

    def sparse_pair_precision(self) -> Tuple[np.ndarray, np.ndarray]:
        """(A,) ascending pair classes ``k * S + s`` that have a positive
        and their (T, R, A) precision: the columns of
        ``attr_eval['pair_precision']`` that are not -1."""
        return self.attr_eval.pair_columns[:2]

    def pair_mean_ap(self, iou_thr=None, classes=None) -> float:
        """:meth:`_mean_ap` of the pair classes (all, or ``classes``: class
        indices ``k * S + s``), from the columns that have a positive."""
        have, precision = self.sparse_pair_precision()
        cols = None  # all columns, without a copy
        if classes is not None:
            classes = np.asarray(classes, dtype=np.int64)
            cols = np.searchsorted(have, classes[np.isin(classes, have)])
        return self._mean_ap(precision, iou_thr, cols)

    def group_pair_classes(self, group: str) -> np.ndarray:
        """(K, V) pair classes ``k * S + s`` of the values of ``group``,
        category by category."""
        ssl = self.spec.score_slices[group]
        return (
            np.arange(len(self.params.catIds))[:, None] * self.spec.num_values
            + np.arange(ssl.start, ssl.stop)[None, :]
        )

    # ------------------------------------------------------------ summarize
    def _mean_ap(
        self, precision: np.ndarray, iou_thr=None, classes=None
    ) -> float:
        """COCO's mean of valid precisions (T, R, K) of the classes
        ``classes`` (all if None); the IoU threshold is picked with
        ``np.isclose``, -1 when nothing is measured."""
        if classes is not None:
            precision = precision[:, :, classes]
        return summarize_ap(precision, self.params.iouThrs, iou_thr, False)

    def attribute_scores(self) -> Dict[str, Tuple[str, float, int]]:
        """Accuracy or macro F1 of every group over the matched pairs.

        Returns:
            dict: ``{group: (kind, value, count)}`` where ``kind`` is
            ``'acc'`` or ``'f1'``, ``value`` is -1 when no matched ground
            truth knows the group, and ``count`` is the number of matched
            pairs whose ground truth knows the group.
        """
        dets, gts = self.attr_eval['pairs_matched']
        out = OrderedDict()
        for group, sl in zip(self.spec, self.spec.label_slices.values()):
            gt = self._gt_labels[gts][:, sl]
            dt = self._dt_labels[dets][:, sl]
            known = gt[:, 0] != UNKNOWN
            count = int(known.sum())
            if group.multi_label:
                value = macro_f1(dt[known], gt[known])
                out[group.name] = ('f1', value, count)
            else:
                value = (
                    float(np.mean(dt[known, 0] == gt[known, 0]))
                    if count
                    else -1.0
                )
                out[group.name] = ('acc', value, count)
        return out

    def summarize(self) -> None:
        """Print COCO's summary, then fill and print :attr:`attr_stats`.

        ``attr_stats`` keys: ``attr_mAP``, ``attr_mAP_50``, ``attr_mAP_75``
        (attribute-aware AP), ``pair_mAP``, ``pair_mAP_50``,
        ``pair_mAP_75`` (object-attribute AP over all pairs) and, per group
        ``g``, ``g_acc`` or ``g_f1``, ``g_num`` (matched pairs scored) and
        ``g_pair_mAP``. All APs at area "all" and ``maxDets[-1]``; -1 where
        there is no ground truth.
        """
        super().summarize()
        stats = self.attr_stats
        stats.clear()
        lines = []  # (title, IoU, value) in COCO's summary style

        def add(key: str, title: str, iou: str, value: float) -> None:
            stats[key] = value
            lines.append((title, iou, value))

        thrs = self.params.iouThrs
        all_iou = f'{thrs[0]:0.2f}:{thrs[-1]:0.2f}'
        attr_precision = self.attr_eval['precision']
        for prefix, title, mean_ap in (
            (
                'attr',
                'Attribute-aware AP',
                lambda thr: self._mean_ap(attr_precision, thr),
            ),
            ('pair', 'Object-attribute AP', self.pair_mean_ap),
        ):
            for name, thr in (
                ('mAP', None),
                ('mAP_50', 0.5),
                ('mAP_75', 0.75),
            ):
                iou = all_iou if thr is None else f'{thr:0.2f}'
                add(f'{prefix}_{name}', title, iou, mean_ap(thr))
        for group, (kind, value, count) in zip(
            self.spec, self.attribute_scores().values()
        ):
            g = group.name
            name = 'accuracy' if kind == 'acc' else 'macro F1'
            iou = f'{self.attr_iou_thr:0.2f}'
            add(f'{g}_{kind}', f'{g} {name} ({count} matched)', iou, value)
            stats[f'{g}_num'] = count
            classes = self.group_pair_classes(g).ravel()
            ap = self.pair_mean_ap(classes=classes)
            add(f'{g}_pair_mAP', f'{g} object-attribute AP', all_iou, ap)
        max_det = self.params.maxDets[-1]
        for title, iou, value in lines:
            print(
                f' {title:<36} @[ IoU={iou:<9} | area=   all | '
                f'maxDets={max_det:>4d} ] = {value:0.3f}'
            )


def value_hot(group: AttributeGroup, cols: np.ndarray) -> np.ndarray:
    """(P, V) bool, the values of ``group`` that label rows have, from the
    group's label columns ``cols``: one value index (single-label) or V 0/1
    columns (multi-label); an unknown group (-1) has no value."""
    if group.multi_label:
        return cols == 1
    return cols[:, :1] == np.arange(group.num_values)


def value_f1(
    pred: np.ndarray, true: np.ndarray
) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-value ``tp``, ``fp``, ``fn`` counts (V,) and ``F1 = 2TP / (2TP
    + FP + FN)`` (V,), NaN for a value in neither, of the predicted values
    ``pred`` (P, V) bool (:func:`value_hot`) against the true ``true``."""
    tp = (pred & true).sum(0)
    fp = (pred & ~true).sum(0)
    fn = (~pred & true).sum(0)
    return tp, fp, fn, f1_from_counts(tp, fp, fn, np.nan)


def multilabel_f1(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """F1 between predicted and true value sets, row by row.

    ``F1 = 2 |P & G| / (|P| + |G|)``, 1 when both sets are empty, 0 when
    the prediction is unknown (-1).

    Args:
        pred (np.ndarray): (P, V) predicted 0/1 columns, or -1 if unknown.
        gt (np.ndarray): (P, V) true 0/1 columns.

    Returns:
        np.ndarray: (P,) float.
    """
    p, g = pred == 1, gt == 1
    both = (p & g).sum(1)
    f1 = f1_from_counts(both, p.sum(1) - both, g.sum(1) - both, 1.0)
    return np.where(pred[:, 0] == UNKNOWN, 0.0, f1)


def macro_f1(pred: np.ndarray, gt: np.ndarray) -> float:
    """Macro F1 over the values of a multi-label group.

    Per value ``F1 = 2TP / (2TP + FP + FN)`` over the given pairs, averaged
    over the values that occur in the ground truth or the predictions. An
    unknown prediction (-1) predicts no value.

    Args:
        pred (np.ndarray): (P, V) predicted 0/1 (or -1) columns.
        gt (np.ndarray): (P, V) true 0/1 columns.

    Returns:
        float: The macro F1, or -1 if no value occurs.
    """
    f1 = value_f1(pred == 1, gt == 1)[3]
    occurs = ~np.isnan(f1)
    return float(np.mean(f1[occurs])) if occurs.any() else -1.0
