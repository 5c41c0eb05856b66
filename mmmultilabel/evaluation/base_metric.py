"""What every attribute COCO metric shares: records, results, ground truth.

:class:`BaseAttrCocoMetric` is mmdet's ``CocoMetric`` with the attribute
predictions kept per sample, written as COCO results with ``attributes``
and ``attribute_scores``, and the ground truth built from the samples when
no ``ann_file`` is given. Each protocol's metric subclasses it and says
how one iou type is evaluated (:meth:`BaseAttrCocoMetric.evaluate_results`):
:class:`~mmmultilabel.evaluation.AttrCocoMetric`,
:class:`~mmmultilabel.evaluation.FashionpediaMetric`,
:class:`~mmmultilabel.evaluation.PacoMetric`.
"""

import logging
from collections import Counter, OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmdet.evaluation import CocoMetric
from mmengine.fileio import dump
from mmengine.logging import MMLogger, print_log

from mmmultilabel.datasets.formats import read_annotation_file
from mmmultilabel.utils import UNKNOWN, AttributeSpec, expand_runs
from mmmultilabel.utils.errors import AnnotationDefectError, ConfigError

from .result_forms import label_dtype
from .results_io import load_attr_coco_api


def round_metrics(
    values: Dict[str, float], prefix: str = '', ndigits: Optional[int] = None
) -> Dict[str, float]:
    """``values`` with ``prefix`` before every name, rounded to ``ndigits``
    decimals (None: not rounded; counts stay integers)."""
    return OrderedDict(
        (
            prefix + k,
            v if ndigits is None or isinstance(v, int) else round(v, ndigits),
        )
        for k, v in values.items()
    )


def _json_rle(mask):
    """``mask`` with the ``counts`` of an RLE as str, as JSON holds them
    (bytes are decoded; polygons and str counts are kept)."""
    if isinstance(mask, dict) and isinstance(mask['counts'], bytes):
        return dict(mask, counts=mask['counts'].decode())
    return mask


class BaseAttrCocoMetric(CocoMetric):
    """COCO results with attributes, evaluated by a subclass.

    Predictions are read from ``pred_instances``: mmdet's ``bboxes``,
    ``scores``, ``labels``, ``masks``, plus ``attr_labels`` (N, D) in the
    encoding of :class:`~mmmultilabel.utils.AttributeSpec` and
    ``attr_scores`` (N, S), the probability of every value. Without them
    (a stock model) attributes count as unknown, which is never right.
    Every image of the data samples is evaluated, with or without
    predictions or ground truth; image ids come from the samples'
    ``img_id``.

    With ``outfile_prefix``, ``<prefix>.bbox.json`` / ``<prefix>.segm.json``
    hold the results in COCO format; each result also has ``attributes``
    (``{group: value name}`` or a list of names for multi-label groups;
    unknown groups left out) and ``attribute_scores`` (``{group: [the
    probability of every value]}``). When the ground truth comes from the
    data samples (no ``ann_file``), it is also written to
    ``<prefix>.gt.json``.

    Args:
        metric (str | Sequence[str]): ``'bbox'`` and/or ``'segm'``.
        **coco_args: The other arguments of ``CocoMetric`` but
            ``ann_file`` (``format_only``, ``outfile_prefix``,
            ``backend_args``, ``collect_device``, ``prefix``, ...).
    """

    default_prefix: Optional[str] = 'coco'

    def __init__(
        self,
        metric: Union[str, Sequence[str]] = ('bbox', 'segm'),
        **coco_args,
    ) -> None:
        metrics = [metric] if isinstance(metric, str) else list(metric)
        for m in metrics:
            if m not in ('bbox', 'segm'):
                raise KeyError(
                    f'{type(self).__name__} evaluates "bbox" and "segm", got '
                    f'"{m}"; use mmdet\'s CocoMetric for proposals'
                )
        super().__init__(ann_file=None, metric=metrics, **coco_args)
        self.ann_file: Optional[str] = None
        self._warned_no_attr = False

    def evaluate_results(
        self, metric: str, results: List[dict], spec: AttributeSpec
    ) -> Dict[str, float]:
        """Metrics of one iou type, ``<metric>_`` prefixed.

        Args:
            metric (str): ``'bbox'`` or ``'segm'``.
            results (list[dict]): COCO results with attribute fields.
            spec (AttributeSpec): The attribute groups.

        Returns:
            dict: ``{name: value}``.
        """
        raise NotImplementedError

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
        # groups that do not apply to the predicted class: unknown
        off = spec.inapplicable_columns(self.dataset_meta['classes'])
        labels = np.where(off[pred['labels'].cpu().numpy()], UNKNOWN, labels)
        return labels.astype(label_dtype(spec)), scores.astype(np.float32)

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
        # the groups that apply to each class (label)
        groups = [
            set(spec.applicable_names(name))
            for name in self.dataset_meta['classes']
        ]
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
                    {g: r[a:b] for g, a, b in slices if g in groups[label]}
                    for r, label in zip(
                        pred['attr_scores'].tolist(), pred['labels'].tolist()
                    )
                ]

            def record(n: int, score: float, **mask) -> dict:
                return dict(
                    image_id=img_id,
                    bbox=boxes[n],
                    score=score,
                    category_id=cats[n],
                    **mask,
                    attributes=attrs[n],
                    attribute_scores=attr_scores[n],
                )

            out['bbox'].extend(record(n, scores[n]) for n in range(num))
            if 'segm' not in out:
                continue
            mask_scores = pred.get('mask_scores', pred['scores']).tolist()
            for n, mask in enumerate(pred['masks']):
                segmentation = _json_rle(
                    dict(size=list(mask['size']), counts=mask['counts'])
                )
                out['segm'].append(
                    record(n, mask_scores[n], segmentation=segmentation)
                )
        return out

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
                    ann['segmentation'] = _json_rle(inst['mask'])
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
    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Write the results files and evaluate every iou type.

        Args:
            results (list): ``(gt, prediction)`` records of every sample.

        Returns:
            dict: Metrics of :meth:`evaluate_results`.
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
            eval_results.update(
                self.evaluate_results(metric, coco_results[metric], spec)
            )
        return eval_results


class BenchmarkMetric(BaseAttrCocoMetric):
    """A benchmark's official metrics on its ground-truth file as published.

    The benchmark's own ``maxDets`` and thresholds apply, so a subclass
    takes no evaluation option; it names its protocol function in
    :attr:`evaluate_protocol` (``(gt, results, iou_type, **options) ->
    (metrics, tables)``). The predictions are handed over in this project's
    result form, which the protocol reads as its ground truth's form.

    Args:
        ann_file (str): The benchmark's ground-truth file as published.
        metric (str | Sequence[str]): ``'bbox'`` and/or ``'segm'``.
            Defaults to ``('bbox', 'segm')``.
        format_only (bool): Only write the results files. Defaults to
            False.
        outfile_prefix (str, optional): Prefix of the results files
            (``<prefix>.segm.json`` in this project's result form).
            Defaults to None (no files).
        backend_args (dict, optional): Arguments of the file backend.
        collect_device (str): ``'cpu'`` or ``'gpu'``. Defaults to 'cpu'.
        prefix (str, optional): Metric name prefix. Defaults to 'coco'.
    """

    evaluate_protocol: Callable
    #: Whether the attribute COCO form of the file is validated on load
    #: (the protocol's own reader checks it otherwise).
    validate_gt = True

    def __init__(
        self,
        ann_file: Optional[str] = None,
        metric: Union[str, Sequence[str]] = ('bbox', 'segm'),
        format_only: bool = False,
        outfile_prefix: Optional[str] = None,
        backend_args: Optional[dict] = None,
        collect_device: str = 'cpu',
        prefix: Optional[str] = None,
    ) -> None:
        super().__init__(
            metric=metric,
            format_only=format_only,
            outfile_prefix=outfile_prefix,
            backend_args=backend_args,
            collect_device=collect_device,
            prefix=prefix,
        )
        if ann_file is None:
            raise ConfigError(
                f"{type(self).__name__} evaluates against the benchmark's "
                'own ground-truth file, as its official code does: give '
                'ann_file (e.g. the val annotation file of the data set)'
            )
        # the attribute COCO form gives the groups, category and image ids
        self.ann_file = ann_file
        self._raw_gt = read_annotation_file(ann_file, backend_args)
        try:
            self._coco_api = load_attr_coco_api(
                self._raw_gt, validate=self.validate_gt
            )
        except AnnotationDefectError as err:
            raise AnnotationDefectError(ann_file, err.defects) from None
        self._coco_api.source = ann_file

    def evaluate_results(
        self, metric: str, results: List[dict], spec: AttributeSpec
    ) -> Dict[str, float]:
        """The protocol's metrics of one iou type, ``<metric>_`` prefixed
        and rounded to 3 decimals."""
        logger: MMLogger = MMLogger.get_current_instance()
        values, tables = self.evaluate_protocol(
            self._raw_gt,
            results,
            metric,
            gt_source=self.ann_file,
            results_source='predictions',
            img_ids=self.img_ids,
        )
        for table in tables:
            logger.info('\n' + table)
        out = round_metrics(values, f'{metric}_', 3)
        logger.info(
            f'{metric} ({type(self).__name__}): '
            + ', '.join(f'{k}: {v}' for k, v in list(out.items())[:2])
        )
        return out
