"""COCO metric for instances with attribute groups."""

import logging
from collections import Counter, OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS
from mmengine.fileio import dump
from mmengine.logging import MMLogger, print_log

from mmmultilabel.datasets.formats import (
    AnnotationDefectError,
    read_annotation_file,
)
from mmmultilabel.utils import AttributeSpec, expand_runs

from ..functional import (
    FILE_PROTOCOLS,
    PROTOCOLS,
    attr_coco_results,
    attr_coco_tables,
    check_metric_items,
    evaluate_attr_coco,
    evaluate_protocol,
    load_attr_coco_api,
)


@METRICS.register_module()
class AttrCocoMetric(CocoMetric):
    """COCO AP plus attribute accuracy and attribute-aware AP.

    For every metric in ``metric`` (``'bbox'``, ``'segm'``) it reports the
    category AP exactly as pycocotools' ``COCOeval`` computes it
    (``segm_mAP``, ``segm_mAP_50``, ... as mmdet's ``CocoMetric``) and the
    attribute metrics of :class:`AttrCOCOeval`:

    * ``<metric>_attr_mAP`` / ``_attr_mAP_50`` / ``_attr_mAP_75``:
      attribute-aware AP (a true positive also predicts every known
      attribute right);
    * ``<metric>_pair_mAP`` / ``_50`` / ``_75``: object-attribute AP over
      all (category, attribute value) pairs, PACO-like (not PACO's
      ``obj-attr-AP``, which ``protocol='paco'`` gives);
    * per group ``g``: ``<metric>_<g>_acc`` (single-label) or
      ``<metric>_<g>_f1`` (multi-label, macro F1) over the detections
      matched at IoU ``attr_iou_thr``, ``<metric>_<g>_num`` (how many were
      scored) and ``<metric>_<g>_pair_mAP``.

    With ``protocol='fashionpedia'`` it reports instead Fashionpedia's
    metrics exactly as its official ``FPEval`` computes them on
    ``ann_file``: ``<metric>_AP_iou_f1`` (AP^{IoU+F1}), ``_AP_iou_f1_50``,
    ``_75``, ``_s``, ``_m``, ``_l`` and the same for ``<metric>_AP_iou``
    (AP^{IoU}); with ``protocol='paco'`` PACO's as its official evaluation
    computes them on ``ann_file``: ``<metric>_obj_attr_AP`` (objects),
    ``<metric>_obj_attr_part_AP`` (parts), per attribute type
    ``<metric>_obj_attr_AP_<type>`` / ``_obj_attr_part_AP_<type>``, LVIS'
    category ``<metric>_AP``, ``_AP50``, ``_AP75``, ``_APs``, ``_APm``,
    ``_APl`` (``_APr``, ``_APc``, ``_APf`` with frequencies) and
    ``<metric>_obj_AP`` / ``_obj_part_AP``; an attribute AP that nothing
    measures is NaN (as PACO's code; ``null`` in JSON files), a category AP
    -1 (as LVIS). Fashionpedia reads the predicted values as attribute ids,
    PACO the probabilities (``attr_scores``) as ``attribute_probs``.

    Definitions: ``docs/evaluation.md``. Every image of the data samples is
    evaluated, with or without predictions or ground truth; image ids come
    from the samples' ``img_id``.

    Predictions are read from ``pred_instances``: mmdet's ``bboxes``,
    ``scores``, ``labels``, ``masks``, plus ``attr_labels`` (N, D) in the
    encoding of :class:`~mmmultilabel.utils.AttributeSpec` and
    ``attr_scores`` (N, S), the probability of every value. Without them
    (a stock model) attributes count as unknown, which is never right.

    With ``outfile_prefix``, ``<prefix>.bbox.json`` / ``<prefix>.segm.json``
    hold the results in COCO format; each result also has ``attributes``
    (``{group: value name}`` or a list of names for multi-label groups;
    unknown groups left out) and ``attribute_scores`` (``{group: [the
    probability of every value]}``). ``python
    tools/analysis_tools/eval_results.py GT RESULTS`` evaluates such a file
    offline with the same numbers. When the ground truth comes from the
    data samples (no ``ann_file``), it is also written to
    ``<prefix>.gt.json``.

    Args:
        ann_file (str, optional): Ground truth in any form that
            :func:`~mmmultilabel.datasets.load_attr_coco` reads. If None,
            it is built from the samples' ``instances`` (their
            ``attr_labels`` rows or ``attributes`` dicts). Defaults to
            None.
        metric (str | Sequence[str]): ``'bbox'`` and/or ``'segm'``.
            Defaults to ``('bbox', 'segm')``.
        classwise (bool): Log the per-category, per-group and
            per-(category, value) tables and report
            ``<metric>_<category>_precision``. Defaults to False.
        proposal_nums (Sequence[int]): COCO's ``maxDets``; attribute APs
            use the last. Defaults to (100, 300, 1000).
        iou_thrs (float | Sequence[float], optional): IoU thresholds.
            Defaults to COCO's 0.50:0.05:0.95.
        metric_items (Sequence[str], optional): Category metrics to report,
            as in ``CocoMetric``; the attribute metrics are always
            reported. Defaults to None.
        format_only (bool): Only write the results files. Defaults to
            False.
        outfile_prefix (str, optional): Prefix of the results files.
            Defaults to None (no files).
        file_client_args (dict, optional): Deprecated, as in mmdet.
        backend_args (dict, optional): Arguments of the file backend.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'coco'.
        sort_categories (bool): Sort the categories of ``ann_file`` by id.
            Defaults to False.
        use_mp_eval (bool): Not supported (must be False).
        attr_iou_thr (float): IoU threshold of the matches whose attributes
            are scored by accuracy / F1; one of ``iou_thrs``. Defaults to
            0.5.
        attr_f1_thr (float): F1 a multi-label group needs to count as right
            in the attribute-aware AP. Defaults to 0.5.
        protocol (str): ``'attr'`` (this project's metrics, above),
            ``'fashionpedia'`` or ``'paco'`` (the benchmark's official
            metrics; they need ``ann_file`` in the benchmark's form and
            use the benchmark's own ``maxDets`` and thresholds).
            Defaults to 'attr'.
    """

    default_prefix: Optional[str] = 'coco'

    def __init__(
        self,
        ann_file: Optional[str] = None,
        metric: Union[str, Sequence[str]] = ('bbox', 'segm'),
        classwise: bool = False,
        proposal_nums: Sequence[int] = (100, 300, 1000),
        iou_thrs: Optional[Union[float, Sequence[float]]] = None,
        metric_items: Optional[Sequence[str]] = None,
        format_only: bool = False,
        outfile_prefix: Optional[str] = None,
        file_client_args: Optional[dict] = None,
        backend_args: Optional[dict] = None,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
        sort_categories: bool = False,
        use_mp_eval: bool = False,
        attr_iou_thr: float = 0.5,
        attr_f1_thr: float = 0.5,
        protocol: str = 'attr',
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(
                f'protocol must be one of {list(PROTOCOLS)}, got {protocol!r}'
            )
        if protocol in FILE_PROTOCOLS and ann_file is None:
            raise ValueError(
                f"protocol={protocol!r} evaluates against the benchmark's "
                'own ground-truth file, as its official code does: give '
                'ann_file (e.g. the val annotation file of the data set)'
            )
        self.protocol = protocol
        metrics = [metric] if isinstance(metric, str) else list(metric)
        for m in metrics:
            if m not in ('bbox', 'segm'):
                raise KeyError(
                    f'AttrCocoMetric evaluates "bbox" and "segm", got '
                    f'"{m}"; use mmdet\'s CocoMetric for proposals'
                )
        if use_mp_eval:
            raise ValueError(
                'AttrCocoMetric does not support use_mp_eval: '
                'its attribute evaluation extends the '
                'single-process COCOeval'
            )
        check_metric_items(metric_items)
        super().__init__(
            ann_file=None,
            metric=metrics,
            classwise=classwise,
            proposal_nums=proposal_nums,
            iou_thrs=iou_thrs,
            metric_items=metric_items,
            format_only=format_only,
            outfile_prefix=outfile_prefix,
            file_client_args=file_client_args,
            backend_args=backend_args,
            collect_device=collect_device,
            prefix=prefix,
        )
        self.iou_thrs = np.atleast_1d(np.asarray(self.iou_thrs, float))
        if not np.isclose(self.iou_thrs, attr_iou_thr).any():
            raise ValueError(
                f'attr_iou_thr={attr_iou_thr} must be one of '
                f'iou_thrs {self.iou_thrs.tolist()}'
            )
        self.ann_file = ann_file
        self.attr_iou_thr = attr_iou_thr
        self.attr_f1_thr = attr_f1_thr
        self._warned_no_attr = False
        self._raw_gt = None
        if ann_file is not None and protocol in FILE_PROTOCOLS:
            # the protocol reads the file as published; the canonical form
            # gives the groups, category and image ids. PACO's reader checks
            # the file with PACO's own rules (it drops annotations of area
            # 0, which the canonical form rejects)
            self._raw_gt = read_annotation_file(ann_file, backend_args)
            try:
                self._coco_api = load_attr_coco_api(
                    self._raw_gt, validate=protocol != 'paco'
                )
            except AnnotationDefectError as err:
                raise AnnotationDefectError(ann_file, err.defects) from None
            self._coco_api.source = ann_file
        elif ann_file is not None:
            self._coco_api = load_attr_coco_api(ann_file, backend_args)
            if sort_categories:
                cats = self._coco_api.cats
                self._coco_api.cats = {i: cats[i] for i in sorted(cats)}
                self._coco_api.dataset['categories'] = sorted(
                    self._coco_api.dataset['categories'], key=lambda c: c['id']
                )

    # -------------------------------------------------------------- process
    @property
    def attr_spec(self) -> AttributeSpec:
        """Attribute groups of ``dataset_meta``, else of the ground truth.

        Raises:
            ValueError: if both declare groups and they differ.
        """
        meta = (self.dataset_meta or {}).get('attribute_groups')
        gt = (
            self._coco_api.dataset.get('attribute_groups')
            if self._coco_api is not None
            else None
        )
        if meta is None:
            return AttributeSpec(gt)
        spec = AttributeSpec(meta)
        if gt is not None and AttributeSpec(gt) != spec:
            raise ValueError(
                f'attribute groups of {self.ann_file} differ from '
                'dataset_meta["attribute_groups"]:\n'
                f'  file: {AttributeSpec(gt).to_list()}\n'
                f'  meta: {spec.to_list()}'
            )
        return spec

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Keep mmdet's per-image record plus the attribute predictions.

        Args:
            data_batch (dict): A batch from the dataloader (unused).
            data_samples (Sequence[dict]): Samples with ``img_id``,
                ``ori_shape`` and ``pred_instances``; see the class doc.
        """
        start = len(self.results)
        super().process(data_batch, data_samples)
        spec = self.attr_spec
        for (gt, result), sample in zip(self.results[start:], data_samples):
            gt['img_path'] = sample.get('img_path')
            result['attr_labels'], result['attr_scores'] = (
                self._pred_attributes(
                    sample['pred_instances'], sample['img_id'], spec
                )
            )

    def _pred_attributes(
        self, pred: dict, img_id: int, spec: AttributeSpec
    ) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """(N, D) integer labels and (N, S) float32 scores, None if absent."""
        num = len(pred['scores'])
        if 'attr_labels' not in pred or 'attr_scores' not in pred:
            if not self._warned_no_attr and len(spec):
                print_log(
                    'pred_instances have no attr_labels/attr_scores: '
                    'attributes are counted as unknown (wrong) for these '
                    'predictions',
                    logger='current',
                    level=logging.WARNING,
                )
                self._warned_no_attr = True
            return None, None
        labels = pred['attr_labels'].cpu().numpy()
        scores = pred['attr_scores'].cpu().numpy()
        for name, arr, width in (
            ('attr_labels', labels, spec.num_label_columns),
            ('attr_scores', scores, spec.num_values),
        ):
            if arr.shape != (num, width):
                raise ValueError(
                    f'image id {img_id}: pred_instances.{name} has shape '
                    f'{tuple(arr.shape)}, expected ({num}, {width}) for '
                    f'{num} instances and attribute groups {spec.names}'
                )
        # small records: int8 unless a single-label group has > 127 values
        widest = max(
            (g.num_values for g in spec if not g.multi_label), default=0
        )
        dtype = np.int8 if widest <= 127 else np.int32
        return labels.astype(dtype), scores.astype(np.float32)

    # ------------------------------------------------------------ formatting
    def _results_to_coco(
        self, preds: Sequence[dict], spec: AttributeSpec
    ) -> Dict[str, List[dict]]:
        """COCO results with ``attributes`` and ``attribute_scores``.

        Returns:
            dict: ``{'bbox': [...], 'segm': [...]}`` (``segm`` only when the
            predictions have masks).
        """
        out: Dict[str, List[dict]] = dict(bbox=[])
        if 'masks' in preds[0]:
            out['segm'] = []
        slices = [(g, s.start, s.stop) for g, s in spec.score_slices.items()]
        decoded: dict = {}
        for pred in preds:
            img_id = pred['img_id']
            cats = [self.cat_ids[label] for label in pred['labels'].tolist()]
            boxes = [
                [x1, y1, x2 - x1, y2 - y1]
                for x1, y1, x2, y2 in pred['bboxes'].tolist()
            ]
            scores = pred['scores'].tolist()
            num = len(scores)
            if pred['attr_labels'] is None:
                attrs, attr_scores = [{}] * num, [{}] * num
            else:
                attrs = []
                for row in map(tuple, pred['attr_labels'].tolist()):
                    if row not in decoded:
                        decoded[row] = spec.decode(row)
                    attrs.append(decoded[row])
                attr_scores = [
                    {g: r[a:b] for g, a, b in slices}
                    for r in pred['attr_scores'].tolist()
                ]
            for n in range(num):
                out['bbox'].append(
                    dict(
                        image_id=img_id,
                        bbox=boxes[n],
                        score=scores[n],
                        category_id=cats[n],
                        attributes=attrs[n],
                        attribute_scores=attr_scores[n],
                    )
                )
            if 'segm' not in out:
                continue
            mask_scores = pred.get('mask_scores', pred['scores']).tolist()
            for n, mask in enumerate(pred['masks']):
                counts = mask['counts']
                out['segm'].append(
                    dict(
                        image_id=img_id,
                        bbox=boxes[n],
                        score=mask_scores[n],
                        category_id=cats[n],
                        segmentation=dict(
                            size=list(mask['size']),
                            counts=counts.decode()
                            if isinstance(counts, bytes)
                            else counts,
                        ),
                        attributes=attrs[n],
                        attribute_scores=attr_scores[n],
                    )
                )
        return out

    def results2json(
        self, results: Sequence[dict], outfile_prefix: str
    ) -> dict:
        """Dump results with attributes to ``<prefix>.<bbox|segm>.json``.

        Args:
            results (Sequence[dict]): Per-image records of :meth:`process`.
            outfile_prefix (str): Prefix of the files.

        Returns:
            dict: ``{'bbox': path, 'segm': path}`` (``segm`` with masks).
        """
        files = {}
        for key, coco in self._results_to_coco(
            results, self.attr_spec
        ).items():
            files[key] = f'{outfile_prefix}.{key}.json'
            dump(coco, files[key])
        return files

    def _gt_to_coco_dict(
        self, gt_dicts: Sequence[dict], spec: AttributeSpec
    ) -> dict:
        """Attribute COCO ground truth from the samples' ``instances``."""
        categories = [
            dict(id=i, name=name)
            for i, name in enumerate(self.dataset_meta['classes'])
        ]
        images, annotations = [], []
        width = spec.num_label_columns
        for gt in gt_dicts:
            images.append(
                dict(
                    id=gt['img_id'],
                    width=gt['width'],
                    height=gt['height'],
                    file_name=gt.get('img_path') or '',
                )
            )
            for inst in gt['anns']:
                x1, y1, x2, y2 = inst['bbox']
                ann = dict(
                    id=len(annotations) + 1,
                    image_id=gt['img_id'],
                    bbox=[x1, y1, x2 - x1, y2 - y1],
                    iscrowd=int(inst.get('ignore_flag', 0)),
                    category_id=int(inst['bbox_label']),
                    area=(x2 - x1) * (y2 - y1),
                )
                if inst.get('mask'):
                    mask = inst['mask']
                    if isinstance(mask, dict) and isinstance(
                        mask['counts'], bytes
                    ):
                        mask = dict(mask, counts=mask['counts'].decode())
                    ann['segmentation'] = mask
                if inst.get('attr_runs') is not None:
                    (row,) = expand_runs([inst['attr_runs']], width)
                    ann['attributes'] = spec.decode(row)
                elif inst.get('attr_labels') is not None:
                    ann['attributes'] = spec.decode(inst['attr_labels'])
                elif inst.get('attributes') is not None:
                    ann['attributes'] = inst['attributes']
                annotations.append(ann)
        return dict(
            info=dict(
                description='converted by mmmultilabel ' 'AttrCocoMetric'
            ),
            images=images,
            categories=categories,
            annotations=annotations,
            attribute_groups=spec.to_list(),
        )

    def gt_to_coco_json(
        self, gt_dicts: Sequence[dict], outfile_prefix: str
    ) -> str:
        """Dump the samples' ground truth as attribute COCO.

        Args:
            gt_dicts (Sequence[dict]): Per-image ground truth records.
            outfile_prefix (str): The file is ``<prefix>.gt.json``.

        Returns:
            str: The file name.
        """
        path = f'{outfile_prefix}.gt.json'
        dump(self._gt_to_coco_dict(gt_dicts, self.attr_spec), path)
        return path

    def _sample_img_ids(self, gts: Sequence[dict]) -> List[int]:
        """Image ids of the evaluated samples, checked against the GT."""
        ids = [gt['img_id'] for gt in gts]
        dup = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dup:
            raise ValueError(
                f'image ids {dup[:10]} were evaluated more than '
                'once; each image of the data set must appear once'
            )
        missing = [i for i in ids if i not in self._coco_api.imgs]
        if missing:
            raise ValueError(
                f'image ids {missing[:10]} of the data samples are not in '
                f'the ground truth {self.ann_file or "(from the samples)"}'
            )
        return sorted(ids)

    # -------------------------------------------------------------- metrics
    def _protocol_metrics(
        self, metric: str, results: List[dict]
    ) -> Dict[str, float]:
        """Metrics of a benchmark protocol, ``<metric>_`` prefixed."""
        logger: MMLogger = MMLogger.get_current_instance()
        values, tables = evaluate_protocol(
            self.protocol,
            self._raw_gt,
            results,
            metric,
            gt_source=self.ann_file,
            results_source='predictions',
            img_ids=self.img_ids,
        )
        for table in tables:
            logger.info('\n' + table)
        out = OrderedDict(
            (f'{metric}_{k}', v if isinstance(v, int) else round(v, 3))
            for k, v in values.items()
        )
        logger.info(
            f'{metric} ({self.protocol}): '
            + ', '.join(f'{k}: {v}' for k, v in list(out.items())[:2])
        )
        return out

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Evaluate category AP and the attribute metrics.

        Args:
            results (list): ``(gt, prediction)`` records of every sample.

        Returns:
            dict: Metrics rounded to 3 decimals (counts as int); see the
            class doc for the names.
        """
        logger: MMLogger = MMLogger.get_current_instance()
        gts, preds = zip(*results)
        spec = self.attr_spec
        if self._coco_api is None:
            logger.info('Converting ground truth to attribute COCO...')
            gt_dict = self._gt_to_coco_dict(gts, spec)
            if self.outfile_prefix is not None:
                dump(gt_dict, f'{self.outfile_prefix}.gt.json')
            # made from the data set's own (validated) annotations
            self._coco_api = load_attr_coco_api(gt_dict, validate=False)
        if self.cat_ids is None:
            self.cat_ids = self._coco_api.get_cat_ids(
                cat_names=self.dataset_meta['classes']
            )
        self.img_ids = self._sample_img_ids(gts)

        coco_results = self._results_to_coco(preds, spec)
        if self.outfile_prefix is not None:
            for key, coco in coco_results.items():
                dump(coco, f'{self.outfile_prefix}.{key}.json')
        eval_results: Dict[str, float] = OrderedDict()
        if self.format_only:
            logger.info(f'results are saved in {self.outfile_prefix}.*.json')
            return eval_results

        for metric in self.metrics:
            logger.info(f'Evaluating {metric}...')
            if metric not in coco_results:
                raise KeyError(
                    f'{metric} is not in results: the '
                    'predictions have no masks'
                )
            if self.protocol in FILE_PROTOCOLS:
                eval_results.update(
                    self._protocol_metrics(metric, coco_results[metric])
                )
                continue
            ev = evaluate_attr_coco(
                self._coco_api,
                coco_results[metric],
                metric,
                cat_ids=self.cat_ids,
                img_ids=self.img_ids,
                max_dets=self.proposal_nums,
                iou_thrs=self.iou_thrs,
                attribute_groups=spec,
                attr_iou_thr=self.attr_iou_thr,
                attr_f1_thr=self.attr_f1_thr,
            )
            eval_results.update(
                attr_coco_results(
                    ev,
                    self.metric_items,
                    self.classwise,
                    prefix=f'{metric}_',
                    ndigits=3,
                )
            )
            if self.classwise:
                for table in attr_coco_tables(ev):
                    logger.info('\n' + table)
            ap = ev.stats[:6]
            logger.info(
                f'{metric}_mAP_copypaste: {ap[0]:.3f} '
                f'{ap[1]:.3f} {ap[2]:.3f} {ap[3]:.3f} '
                f'{ap[4]:.3f} {ap[5]:.3f}'
            )
            logger.info(
                f'{metric}_attr_mAP: {ev.attr_stats["attr_mAP"]:.3f}'
                f', {metric}_pair_mAP: '
                f'{ev.attr_stats["pair_mAP"]:.3f}'
            )
        return eval_results
