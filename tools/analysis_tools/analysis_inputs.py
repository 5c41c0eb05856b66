"""Ground truth and results for the attribute analysis tools.

The tools take their input in either of the two forms that mmdet's
analysis tools take:

* a **config** and the ``--out`` pickle of ``tools/test.py`` (the data
  samples that ``DumpDetResults`` wrote: ``pred_instances`` with
  ``attr_labels`` / ``attr_scores``): the test data set of the config gives
  the classes, the attribute groups, the ground truth and the images; the
  predictions are turned into COCO results by :class:`AttrCocoMetric`
  itself, as during testing;
* an **annotation file** (any form that ``load_attr_coco`` reads) and a
  **results JSON** as ``AttrCocoMetric`` writes with ``outfile_prefix``
  (``<prefix>.segm.json`` / ``<prefix>.bbox.json``); a config instead of
  the annotation file gives the ground truth and the images.
"""

import argparse
import contextlib
import io
import os.path as osp
import pickle
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmdet.registry import DATASETS
from mmengine.config import Config, DictAction
from mmengine.fileio import load
from mmengine.registry import init_default_scope

from mmmultilabel.evaluation import (
    AttrCOCOeval,
    AttrCocoMetric,
    evaluate_attr_coco,
    load_attr_coco_api,
)
from mmmultilabel.utils import InputError

CONFIG_SUFFIXES = ('.py',)
PICKLE_SUFFIXES = ('.pkl', '.pickle')


@dataclass
class AnalysisInputs:
    """What the analysis tools read.

    Attributes:
        coco_gt: Ground truth (mmdet's COCO api, ``source`` = file name).
        results (list[dict]): Results in COCO format with ``attributes``
            and ``attribute_scores``.
        iou_type (str): ``'segm'`` if the results have masks, else
            ``'bbox'``.
        img_paths (dict): Image path by image id, where known.
        evaluator (dict): ``test_evaluator`` of the config (empty without
            a config), for defaults such as ``attr_iou_thr``.
    """

    coco_gt: object
    results: List[dict]
    iou_type: str
    img_paths: Dict[int, str] = field(default_factory=dict)
    evaluator: dict = field(default_factory=dict)


def _build_test_dataset(config: str, cfg_options: Optional[dict]):
    """Test data set of a config, and its ``test_evaluator`` dict."""
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    evaluator = cfg.get('test_evaluator', {})
    if isinstance(evaluator, (list, tuple)):
        evaluator = next(
            (e for e in evaluator if e.get('type') == 'AttrCocoMetric'),
            evaluator[0] if evaluator else {},
        )
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    return dataset, dict(evaluator)


def _load_samples(path: str) -> List[dict]:
    """The data samples that ``tools/test.py --out`` dumped."""
    with open(path, 'rb') as f:
        samples = pickle.load(f)
    if not isinstance(samples, list) or not all(
        isinstance(s, dict) and 'pred_instances' in s for s in samples
    ):
        raise InputError(
            f'{path}: expected the list of data samples with '
            '"pred_instances" that tools/test.py --out writes'
        )
    return samples


def _results_from_samples(
    samples: List[dict],
    path: str,
    gt_file: str,
    dataset_meta: dict,
    iou_type: Optional[str],
) -> List[dict]:
    """COCO results of dumped data samples, converted by
    :class:`AttrCocoMetric` as during testing."""
    if not samples:
        return []
    has_masks = 'masks' in samples[0]['pred_instances']
    kind = iou_type or ('segm' if has_masks else 'bbox')
    with tempfile.TemporaryDirectory() as tmp:
        metric = AttrCocoMetric(
            ann_file=gt_file,
            metric=kind,
            format_only=True,
            outfile_prefix=osp.join(tmp, 'results'),
        )
        metric.dataset_meta = dataset_meta
        metric.process({}, samples)
        metric.compute_metrics(metric.results)
        out = osp.join(tmp, f'results.{kind}.json')
        if not osp.exists(out):
            raise InputError(
                f'{path}: the predictions have no masks; use '
                '--iou-type bbox'
            )
        return load(out)


def load_analysis_inputs(
    gt: str,
    results: str,
    iou_type: Optional[str] = None,
    img_dir: Optional[str] = None,
    cfg_options: Optional[dict] = None,
) -> AnalysisInputs:
    """Read the input of an analysis tool.

    Args:
        gt (str): A config (``.py``) or an annotation file.
        results (str): The ``--out`` pickle of ``tools/test.py`` (needs a
            config) or a results JSON.
        iou_type (str, optional): ``'segm'`` or ``'bbox'``; by default
            ``'segm'`` when the results have masks.
        img_dir (str, optional): Folder of the images (``file_name`` is
            relative to it) when ``gt`` is an annotation file.
        cfg_options (dict, optional): Overrides of the config.

    Returns:
        AnalysisInputs: Ground truth, results and image paths.

    Raises:
        InputError: for a missing file, a pickle without config or
            results that do not belong to the ground truth.
    """
    for path in (gt, results):
        if not osp.isfile(path):
            raise InputError(f'file not found: {path}')
    is_config = gt.endswith(CONFIG_SUFFIXES)
    is_pickle = results.endswith(PICKLE_SUFFIXES)
    if is_pickle and not is_config:
        raise InputError(
            f'{results} is a tools/test.py --out pickle: give the CONFIG it '
            f'was made with instead of {gt}, for its classes and ground truth'
        )
    img_paths: Dict[int, str] = {}
    evaluator: dict = {}
    if is_config:
        dataset, evaluator = _build_test_dataset(gt, cfg_options)
        gt_file = evaluator.get('ann_file') or dataset.ann_file
        coco_gt = load_attr_coco_api(gt_file)
        img_root = dataset.data_prefix.get('img', '')
        for img_id, img in coco_gt.imgs.items():
            img_paths[img_id] = osp.join(img_root, img['file_name'])
    else:
        coco_gt = load_attr_coco_api(gt)
        if img_dir is not None:
            for img_id, img in coco_gt.imgs.items():
                img_paths[img_id] = osp.join(img_dir, img['file_name'])
    if is_pickle:
        meta = dict(dataset.metainfo)
        samples = _load_samples(results)
        for sample in samples:
            if sample.get('img_path'):
                img_paths[sample['img_id']] = sample['img_path']
        res = _results_from_samples(samples, results, gt_file, meta, iou_type)
    else:
        res = load(results, file_format='json')
        if not isinstance(res, list):
            raise InputError(
                f'{results}: expected a list of results in COCO format, got '
                f'{type(res).__name__}'
            )
    if iou_type is None:
        iou_type = 'segm' if res and 'segmentation' in res[0] else 'bbox'
    return AnalysisInputs(
        coco_gt=coco_gt,
        results=res,
        iou_type=iou_type,
        img_paths=img_paths,
        evaluator=evaluator,
    )


def evaluate_analysis_inputs(
    inputs: AnalysisInputs,
    attr_iou_thr: Optional[float] = None,
    attr_f1_thr: Optional[float] = None,
) -> AttrCOCOeval:
    """Evaluate the inputs quietly, as ``AttrCocoMetric`` does.

    IoU thresholds, ``maxDets`` (``proposal_nums``), ``attr_iou_thr`` and
    ``attr_f1_thr`` default to the config's ``test_evaluator``, else to the
    metric's defaults.

    Args:
        inputs (AnalysisInputs): From :func:`load_analysis_inputs`.
        attr_iou_thr (float, optional): Overrides the evaluator's.
        attr_f1_thr (float, optional): Overrides the evaluator's.

    Returns:
        AttrCOCOeval: Evaluated and accumulated (COCO's summary is not
        printed).
    """
    cfg = inputs.evaluator
    if attr_iou_thr is None:
        attr_iou_thr = cfg.get('attr_iou_thr', 0.5)
    if attr_f1_thr is None:
        attr_f1_thr = cfg.get('attr_f1_thr', 0.5)
    with contextlib.redirect_stdout(io.StringIO()):
        return evaluate_attr_coco(
            inputs.coco_gt,
            inputs.results,
            inputs.iou_type,
            max_dets=cfg.get('proposal_nums', (100, 300, 1000)),
            iou_thrs=cfg.get('iou_thrs'),
            attr_iou_thr=attr_iou_thr,
            attr_f1_thr=attr_f1_thr,
        )


def add_input_arguments(parser: argparse.ArgumentParser, save_help: str):
    """The arguments every attribute analysis tool takes: ``gt``,
    ``results``, ``save_dir``, ``--iou-type`` and ``--cfg-options``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        save_help (str): Help of ``save_dir``.
    """
    parser.add_argument(
        'gt', help='config (.py) or ground-truth annotation file'
    )
    parser.add_argument(
        'results',
        help='tools/test.py --out pickle (with a config) or results JSON',
    )
    parser.add_argument('save_dir', help=save_help)
    parser.add_argument(
        '--iou-type',
        choices=['segm', 'bbox'],
        help='default: segm if the results have masks, else bbox',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, e.g. '
        'test_evaluator.attr_iou_thr=0.75',
    )
