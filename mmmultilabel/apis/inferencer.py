"""Inference on images: instances with masks, categories and attributes."""

import copy
import os.path as osp
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Union

import cv2
import mmengine
import numpy as np
import torch.nn as nn
from mmdet.apis import DetInferencer
from mmdet.structures import DetDataSample
from mmdet.structures.mask import encode_mask_results
from mmdet.utils import ConfigType
from mmengine.dataset import Compose
from mmengine.infer.infer import ModelType
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmengine.structures import InstanceData

from mmmultilabel.deploy import OnnxAttrMask2Former
from mmmultilabel.models.utils import (
    AttrThrs,
    attr_group_thrs,
    attr_predictions,
    mark_unknown_attrs,
)
from mmmultilabel.utils import AttributeSpec, InputError
from mmmultilabel.utils.checkpoint import checkpoint_safe_globals

BACKENDS = ('pytorch', 'onnxruntime')

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]

# Annotation loaders that a test pipeline may hold; inference has no
# annotations, so they are dropped.
ANNOTATION_LOADERS = (
    'LoadAnnotations',
    'LoadAttrAnnotations',
    'LoadPanopticAnnotations',
    'mmdet.LoadAnnotations',
    'mmdet.LoadAttrAnnotations',
    'mmdet.LoadPanopticAnnotations',
)


class UnreadableImageError(InputError):
    """An input image that cannot be read or decoded."""


class _ReadingPipeline:
    """The test pipeline with its image loading step guarded.

    An input whose loading fails raises :class:`UnreadableImageError` that
    names it, or, while ``skip`` is set, is recorded in ``failed`` and
    gives ``None`` (dropped from its batch by the collate function).

    Args:
        pipeline (Compose): mmdet's inference pipeline.
        load_idx (int): Index of its loading transform.
    """

    def __init__(self, pipeline: Compose, load_idx: int) -> None:
        self.load = Compose(pipeline.transforms[: load_idx + 1])
        self.rest = Compose(pipeline.transforms[load_idx + 1 :])
        self.skip = False
        self.failed: List[dict] = []

    def __call__(self, single_input: InputType) -> Optional[dict]:
        try:
            results = self.load(single_input)
            if results is None or results.get('img') is None:
                raise ValueError('the file is empty or not an image')
        except (OSError, ValueError, AssertionError, cv2.error) as e:
            name = single_input if isinstance(single_input, str) else 'array'
            err = UnreadableImageError(
                f'cannot read image {name}: {e}. Check that the file exists '
                'and is a complete image (JPEG/PNG), or remove it from the '
                'input'
            )
            if not self.skip:
                raise err from e
            print_log(f'skipped: {err}', logger='current', level=30)
            self.failed.append(dict(input=single_input, error=str(err)))
            return None
        return self.rest(results)


class AttrInferencer(DetInferencer):
    """Instances with mask, box, category, score and attributes per image.

    :class:`mmdet.apis.DetInferencer` with the hooks that attributes
    change: input handling (files, folders, remote paths through mmengine's
    file backends, arrays), batching, drawing into ``out_dir/vis/`` and the
    ``out_dir/preds/`` layout are mmdet's. A checkpoint loads with
    ``torch.load(weights_only=True)`` (see
    :func:`~mmmultilabel.engine.checkpoint_safe_globals`); one saved on a
    GPU loads on the CPU.

    Each image gives one JSON-serialisable dict (see ``docs/inference.md``)::

        {'image': 'demo/a.jpg',          # None for an array input
         'height': 480, 'width': 640,
         'instances': [
             {'category': 'circle', 'category_id': 0, 'score': 0.93,
              'bbox': [x1, y1, x2, y2],                  # pixels
              'mask': {'size': [480, 640], 'counts': '...'},  # COCO RLE
              'attributes': {
                  'color': {'value': 'red', 'score': 0.88},
                  'size': {'value': None, 'score': None},     # unknown
                  'pattern': {'value': ['striped', 'dotted'],
                              'score': [0.91, 0.72]}}}]}

    Keyword arguments of :meth:`__call__` besides mmdet's:

    - ``score_thr``: instances whose score is below it are dropped (before
      drawing and output).
    - ``attr_thr`` (one float for every group, or ``{group: thr}``): a
      single-label group is unknown when the probability of its predicted
      value is below ``thr``; a multi-label group is unknown when any of
      its values is unsure, i.e. has a probability strictly between
      ``1 - thr`` and ``thr`` (so ``thr <= 0.5`` never makes it unknown).
      A group the model already predicted unknown stays unknown. The
      fusion head's ``attr_unknown_thrs`` follow the same rule
      (:func:`~mmmultilabel.models.utils.mark_unknown_attrs`), the model
      adding its no-object judgement.
    - ``skip_unreadable``: an image that cannot be read is skipped and
      listed in the result's ``failed`` instead of raising
      :class:`UnreadableImageError`.

    ``weights`` may be an ONNX graph written by
    ``tools/deployment/export_onnx.py`` (``backend='onnxruntime'``, the
    default for a ``.onnx`` file; ``docs/deployment.md``): ONNX Runtime
    computes the logits and the PyTorch model's fusion head turns them
    into the same records. The config, class names and attribute groups
    are then read from the file unless ``model`` is given.

    The class and attribute names come from the checkpoint's
    ``meta['dataset_meta']``; missing ``classes``, ``attribute_groups`` or
    ``palette`` are taken from the config's
    ``test_dataloader.dataset.metainfo``, and missing attribute groups from
    the model's fusion head.

    Args:
        model (str | dict | Config, optional): Config file path or config.
            None reads the config stored in ``weights``. Defaults to None.
        weights (str, optional): Checkpoint path. Defaults to None (random
            weights, with a warning).
        device (str, optional): Device, e.g. ``'cpu'`` or ``'cuda:0'``.
            Defaults to None (CUDA if available, else CPU).
        scope (str): Registry scope. Defaults to 'mmdet'.
        palette (str): Class colours for drawing, as
            :class:`~mmdet.apis.DetInferencer`; ``'none'`` takes them from
            the config or checkpoint. Defaults to 'none'.
        show_progress (bool): Show a progress bar. Defaults to True.
        score_thr (float): Default ``score_thr`` of :meth:`__call__`.
            Defaults to 0.3.
        attr_thr (float | dict[str, float], optional): Default ``attr_thr``
            of :meth:`__call__`. Defaults to None (keep the model's
            attribute decisions).
        backend (str, optional): ``'pytorch'`` or ``'onnxruntime'``.
            Defaults to None: ``'onnxruntime'`` for a ``.onnx`` file,
            else ``'pytorch'``.

    Examples:
        >>> from mmmultilabel.apis import AttrInferencer
        >>> inferencer = AttrInferencer('configs/....py', 'model.pth')
        >>> result = inferencer('demo/', out_dir='outputs/',
        ...                     no_save_pred=False)
        >>> result['predictions'][0]['instances'][0]['attributes']
    """

    preprocess_kwargs: set = {'skip_unreadable'}
    forward_kwargs: set = {'score_thr', 'attr_thr'}

    def __init__(
        self,
        model: Optional[Union[ModelType, str]] = None,
        weights: Optional[str] = None,
        device: Optional[str] = None,
        scope: Optional[str] = 'mmdet',
        palette: str = 'none',
        show_progress: bool = True,
        score_thr: float = 0.3,
        attr_thr: AttrThrs = None,
        backend: Optional[str] = None,
    ) -> None:
        for path, what in ((model, 'config'), (weights, 'checkpoint')):
            if isinstance(path, str) and not osp.isfile(path):
                raise FileNotFoundError(f'{what} file not found: {path}')
        self.backend = self._backend(weights, backend)
        self.weights = weights
        with checkpoint_safe_globals(weights or '<no checkpoint>'):
            super().__init__(
                model=model,
                weights=weights,
                device=device,
                scope=scope,
                palette=palette,
                show_progress=show_progress,
            )
        self.attr_spec = AttributeSpec(
            self.model.dataset_meta.get('attribute_groups')
        )
        self.score_thr = score_thr
        self.attr_thr = attr_thr
        self._group_thrs(attr_thr)  # validate now, not at the first image

    # ------------------------------------------------------------ building
    @staticmethod
    def _backend(weights: Optional[str], backend: Optional[str]) -> str:
        """The backend that runs ``weights``.

        Raises:
            ValueError: for an unknown backend, or one that cannot read
                ``weights``.
        """
        is_onnx = isinstance(weights, str) and weights.endswith('.onnx')
        if backend is None:
            return 'onnxruntime' if is_onnx else 'pytorch'
        if backend not in BACKENDS:
            raise ValueError(
                f'backend must be one of {BACKENDS}, got {backend!r}'
            )
        if (backend == 'onnxruntime') != is_onnx:
            raise ValueError(
                f'{weights}: the {backend} backend runs '
                + (
                    'ONNX graphs (.onnx, from tools/deployment/'
                    'export_onnx.py); export the checkpoint first'
                    if backend == 'onnxruntime'
                    else 'checkpoints (.pth); run the ONNX file with '
                    "backend='onnxruntime'"
                )
            )
        return backend

    def _init_model(
        self, cfg: ConfigType, weights: Optional[str], device: str = 'cpu'
    ) -> nn.Module:
        """mmengine's model building, or the ONNX Runtime model.

        For an ONNX graph, an empty ``cfg`` is filled with the config
        stored in the file, and ``dataset_meta`` is the file's, completed
        and checked as a checkpoint's (:meth:`_set_dataset_meta`).
        """
        if self.backend == 'pytorch':
            return super()._init_model(cfg, weights, device)
        model = OnnxAttrMask2Former(weights, device=device)
        if not cfg:
            cfg.update(model.cfg._cfg_dict)
        self._set_dataset_meta(model, dict(model.dataset_meta), cfg)
        return model

    def _load_weights_to_model(
        self,
        model: nn.Module,
        checkpoint: Optional[dict],
        cfg: Optional[ConfigType],
    ) -> None:
        """Load the weights and set ``model.dataset_meta``.

        ``dataset_meta`` holds ``classes``, ``attribute_groups`` and
        ``palette``, from the checkpoint's ``meta['dataset_meta']``, else
        the config's ``test_dataloader.dataset.metainfo``, else (attribute
        groups) the model's fusion head.

        Raises:
            ValueError: if the weights do not fit the model (missing or
                unexpected keys), the class names are nowhere to be found,
                or the names disagree with the model.
        """
        meta: dict = {}
        if checkpoint is not None:
            try:
                _load_checkpoint_to_model(model, checkpoint, strict=True)
            except RuntimeError as e:
                raise ValueError(
                    f'{self.weights}: the checkpoint does not fit the model '
                    f'of the config ({e}); give the config the checkpoint '
                    'was trained with'
                ) from e
            except InputError as e:  # e.g. other mask inputs: the fix
                raise InputError(f'{self.weights}: {e}') from e
            ckpt_meta = checkpoint.get('meta', {}).get('dataset_meta') or {}
            meta = {k.lower(): v for k, v in ckpt_meta.items()}
        else:
            warnings.warn(
                'no checkpoint given: the predictions come from randomly '
                'initialised weights'
            )
        self._set_dataset_meta(model, meta, cfg)

    def _set_dataset_meta(
        self, model: nn.Module, meta: dict, cfg: Optional[ConfigType]
    ) -> None:
        """Complete ``meta`` from the config and the model, check it and
        set it as ``model.dataset_meta`` (see
        :meth:`_load_weights_to_model`).

        Raises:
            ValueError: if the class names are nowhere to be found, or the
                names disagree with the model.
        """
        cfg_meta = dict(
            cfg.get('test_dataloader', {}).get('dataset', {}).get('metainfo')
            or {}
        )
        for key in ('classes', 'attribute_groups', 'palette'):
            if meta.get(key) is None and cfg_meta.get(key) is not None:
                meta[key] = cfg_meta[key]
        if self.palette != 'none':
            meta['palette'] = self.palette
        elif meta.get('palette') is None:
            meta['palette'] = 'random'

        fusion_head = getattr(model, 'panoptic_fusion_head', None)
        head_spec = getattr(fusion_head, 'attr_spec', None)
        if meta.get('attribute_groups') is None and head_spec is not None:
            meta['attribute_groups'] = head_spec.to_list()
        spec = AttributeSpec(meta.get('attribute_groups'))
        meta['attribute_groups'] = spec.to_list()
        if head_spec is not None and head_spec != spec:
            raise ValueError(
                f'the attribute groups of the data set {spec.names} differ '
                f'from those of the model {head_spec.names} (or their values '
                'differ); the checkpoint meta / test_dataloader.dataset.'
                'metainfo must describe the data set the model was trained '
                'on'
            )
        if meta.get('classes') is None:
            raise ValueError(
                'no class names: the checkpoint has no '
                "meta['dataset_meta']['classes'] and the config has no "
                'test_dataloader.dataset.metainfo.classes; add '
                'metainfo=dict(classes=(...), attribute_groups=[...]) to '
                'the test data set of the config'
            )
        meta['classes'] = tuple(meta['classes'])
        num_classes = getattr(fusion_head, 'num_things_classes', None)
        if num_classes is not None and num_classes != len(meta['classes']):
            raise ValueError(
                f'the model predicts {num_classes} classes but '
                f'dataset_meta names {len(meta["classes"])}: '
                f'{meta["classes"]}'
            )
        model.dataset_meta = meta

    def _init_pipeline(self, cfg: ConfigType) -> _ReadingPipeline:
        """mmdet's inference pipeline without annotation loaders, with its
        loading step guarded (see :class:`_ReadingPipeline`)."""
        cfg = copy.deepcopy(cfg)
        pipeline_cfg = cfg.test_dataloader.dataset.pipeline
        cfg.test_dataloader.dataset.pipeline = [
            t for t in pipeline_cfg if t['type'] not in ANNOTATION_LOADERS
        ]
        pipeline = super()._init_pipeline(cfg)
        load_idx = self._get_transform_idx(
            cfg.test_dataloader.dataset.pipeline, 'mmdet.InferencerLoader'
        )
        return _ReadingPipeline(pipeline, load_idx)

    def _init_collate(self, cfg: ConfigType) -> Callable:
        """The config's collate function, after dropping skipped inputs."""
        collate = super()._init_collate(cfg)

        def collate_readable(chunk: list):
            # [(input, data or None)] -> collated (inputs, data)
            kept = [item for item in chunk if item[1] is not None]
            return collate(kept) if kept else ([], None)

        return collate_readable

    def _init_visualizer(self, cfg: ConfigType):
        """The config's visualizer, else an ``AttrDetLocalVisualizer``."""
        if 'visualizer' not in cfg:
            cfg.visualizer = dict(type='AttrDetLocalVisualizer')
        return super()._init_visualizer(cfg)

    # ---------------------------------------------------------------- flow
    def _inputs_to_list(self, inputs: InputsType) -> list:
        """mmdet's input list; a folder's images are sorted by name.

        Raises:
            FileNotFoundError: if a folder holds no image file.
        """
        listed = super()._inputs_to_list(inputs)
        if isinstance(inputs, str) and listed != [inputs]:
            if not listed:
                raise FileNotFoundError(f'no image in folder {inputs}')
            listed = sorted(listed)
        return listed

    def __call__(self, inputs: InputsType, *args, **kwargs) -> dict:
        """``DetInferencer.__call__`` plus a ``failed`` list.

        Returns:
            dict: ``predictions`` and ``visualization`` as mmdet's, and
            ``failed`` (list[dict] of ``{'input': ..., 'error': ...}`` of
            the images skipped with ``skip_unreadable``).
        """
        self.pipeline.failed = []
        results = super().__call__(inputs, *args, **kwargs)
        results['failed'] = self.pipeline.failed
        return results

    def preprocess(
        self,
        inputs: InputsType,
        batch_size: int = 1,
        skip_unreadable: bool = False,
        **kwargs,
    ):
        """mmdet's batching; unreadable images raise unless skipped."""
        self.pipeline.skip = skip_unreadable
        yield from super().preprocess(inputs, batch_size, **kwargs)

    def forward(
        self,
        inputs: Optional[dict],
        score_thr: Optional[float] = None,
        attr_thr: AttrThrs = None,
        **kwargs,
    ) -> List[DetDataSample]:
        """Predict a batch and apply the thresholds (class doc)."""
        if inputs is None:  # every image of the batch was skipped
            return []
        score_thr = self.score_thr if score_thr is None else score_thr
        group_thrs = self._group_thrs(
            self.attr_thr if attr_thr is None else attr_thr
        )
        preds = super().forward(inputs, **kwargs)
        for pred in preds:
            pred.pred_instances = self.apply_thresholds(
                pred.pred_instances.cpu(), score_thr, group_thrs
            )
        return preds

    def visualize(self, inputs: list, preds: list, **kwargs):
        """mmdet's drawing of every kept instance (``score_thr`` has been
        applied in :meth:`forward`)."""
        kwargs['pred_score_thr'] = -1.0
        return super().visualize(inputs, preds, **kwargs)

    # ---------------------------------------------------------- thresholds
    def _group_thrs(self, attr_thr: AttrThrs) -> Dict[str, float]:
        """``{group: thr}`` of the groups that have a threshold.

        Raises:
            ValueError: for an undeclared group or a threshold outside
                [0, 1].
        """
        return attr_group_thrs(attr_thr, self.attr_spec, 'attr_thr')

    def apply_thresholds(
        self,
        instances: InstanceData,
        score_thr: float,
        group_thrs: Dict[str, float],
    ) -> InstanceData:
        """Drop unsure instances and mark unsure attribute groups unknown.

        Args:
            instances (:obj:`InstanceData`): ``scores`` (N, ), and optionally
                ``attr_labels`` (N, D) and ``attr_scores`` (N, S).
            score_thr (float): Instances with ``scores < score_thr`` go.
            group_thrs (dict[str, float]): Thresholds per group (see the
                class doc); groups not listed keep the model's labels.

        Returns:
            :obj:`InstanceData`: The kept instances; ``attr_labels`` is a
            new tensor with the unknown groups set to -1.
        """
        instances = instances[instances.scores >= score_thr]
        if (
            group_thrs
            and 'attr_labels' in instances
            and 'attr_scores' in instances
        ):
            instances.attr_labels = mark_unknown_attrs(
                instances.attr_labels,
                instances.attr_scores,
                self.attr_spec,
                group_thrs,
            )
        return instances

    # -------------------------------------------------------------- output
    def pred2dict(
        self, data_sample: DetDataSample, pred_out_dir: str = ''
    ) -> dict:
        """The JSON-serialisable record of one image (class doc).

        Written to ``<pred_out_dir>/preds/<image name>.json`` (a counter
        for arrays) unless ``pred_out_dir`` is ``''``, as mmdet does.

        Args:
            data_sample (:obj:`DetDataSample`): Prediction with
                ``pred_instances`` (``masks`` (N, H, W), ``bboxes`` (N, 4),
                ``labels`` (N, ), ``scores`` (N, ), optional
                ``attr_labels`` (N, D) and ``attr_scores`` (N, S)).
            pred_out_dir (str): Output folder, ``''`` for none.

        Returns:
            dict: ``image``, ``height``, ``width``, ``instances``.
        """
        record = self._record(data_sample)
        if pred_out_dir:
            img_path = data_sample.get('img_path')
            if img_path:
                stem = osp.splitext(osp.basename(img_path))[0]
            else:
                stem = str(self.num_predicted_imgs)
                self.num_predicted_imgs += 1
            mmengine.dump(
                record,
                osp.join(pred_out_dir, 'preds', f'{stem}.json'),
                indent=2,
            )
        return record

    def _record(self, data_sample: DetDataSample) -> dict:
        """Record of one image without writing it."""
        classes = self.model.dataset_meta['classes']
        height, width = data_sample.ori_shape[:2]
        pred = data_sample.pred_instances.cpu()
        has_attr = (
            len(self.attr_spec) > 0
            and 'attr_labels' in pred
            and 'attr_scores' in pred
        )
        masks = (
            encode_mask_results(pred.masks.numpy().astype(np.uint8))
            if 'masks' in pred
            else [None] * len(pred)
        )
        instances = []
        for i in range(len(pred)):
            label = int(pred.labels[i])
            mask = masks[i]
            if mask is not None:
                counts = mask['counts']
                mask = dict(
                    size=[int(s) for s in mask['size']],
                    counts=counts.decode()
                    if isinstance(counts, bytes)
                    else counts,
                )
            instances.append(
                dict(
                    category=classes[label],
                    category_id=label,
                    score=float(pred.scores[i]),
                    bbox=[float(v) for v in pred.bboxes[i]],
                    mask=mask,
                    attributes=attr_predictions(
                        pred.attr_labels[i].tolist(),
                        pred.attr_scores[i].tolist(),
                        self.attr_spec,
                        classes[label],
                    )
                    if has_attr
                    else {},
                )
            )
        return dict(
            image=data_sample.get('img_path'),
            height=int(height),
            width=int(width),
            instances=instances,
        )
