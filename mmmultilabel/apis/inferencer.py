"""Inference on images: instances with masks, categories and attributes."""

import copy
import logging
import math
import os
import os.path as osp
import warnings
from typing import (
    Callable,
    Dict,
    List,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import cv2
import mmcv
import mmengine
import numpy as np
import torch.nn as nn
from mmdet.apis import DetInferencer
from mmdet.structures import DetDataSample
from mmdet.structures.mask import encode_mask_results
from mmdet.utils import ConfigType
from mmengine.dataset import Compose, pseudo_collate
from mmengine.infer.infer import ModelType
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint_to_model
from mmengine.structures import InstanceData
from rich.progress import track

from mmmultilabel.engine import checkpoint_safe_globals
from mmmultilabel.utils import UNKNOWN, AttributeSpec

InputType = Union[str, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]
AttrThr = Union[float, Mapping[str, float], None]

IMG_EXTENSIONS = (
    '.jpg',
    '.jpeg',
    '.png',
    '.ppm',
    '.bmp',
    '.pgm',
    '.tif',
    '.tiff',
    '.webp',
)
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


class UnreadableImageError(ValueError):
    """An input image that cannot be read or decoded."""


class AttrInferencer(DetInferencer):
    """Instances with mask, box, category, score and attributes per image.

    In the manner of :class:`mmdet.apis.DetInferencer`: built from a config
    and a checkpoint, called on an image path, an image array (BGR, as
    ``mmcv.imread`` returns), a list of them, or a folder (its files with an
    image extension, sorted, not recursive). A checkpoint saved on a GPU
    loads on the CPU (it is read with ``map_location='cpu'``, then moved to
    ``device``).

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

    Thresholds:

    - ``score_thr``: instances whose score is below it are dropped.
    - ``attr_thr`` (one float for every group, or ``{group: thr}``): a
      single-label group is unknown when the probability of its predicted
      value is below ``thr``; a multi-label group is unknown when any of its
      values is unsure, i.e. has a probability strictly between
      ``1 - thr`` and ``thr`` (so ``thr <= 0.5`` never makes it unknown).
      A group the model already predicted unknown stays unknown.

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
        score_thr (float): Default class score threshold of :meth:`__call__`.
            Defaults to 0.3.
        attr_thr (float | dict[str, float], optional): Default attribute
            thresholds of :meth:`__call__`. Defaults to None (keep the
            model's attribute decisions).

    Examples:
        >>> from mmmultilabel.apis import AttrInferencer
        >>> inferencer = AttrInferencer('configs/....py', 'model.pth')
        >>> result = inferencer('demo/', out_dir='outputs/')
        >>> result['predictions'][0]['instances'][0]['attributes']
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = set()
    postprocess_kwargs: set = set()

    def __init__(
        self,
        model: Optional[Union[ModelType, str]] = None,
        weights: Optional[str] = None,
        device: Optional[str] = None,
        scope: Optional[str] = 'mmdet',
        palette: str = 'none',
        show_progress: bool = True,
        score_thr: float = 0.3,
        attr_thr: AttrThr = None,
    ) -> None:
        for path, what in ((model, 'config'), (weights, 'checkpoint')):
            if isinstance(path, str) and not osp.isfile(path):
                raise FileNotFoundError(f'{what} file not found: {path}')
        # Checkpoints load with torch.load(weights_only=True) and exactly
        # the globals mmengine's checkpoints hold.
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
                    'the checkpoint does not fit the model of the config '
                    f'({e}); give the config the checkpoint was trained with'
                ) from e
            ckpt_meta = checkpoint.get('meta', {}).get('dataset_meta') or {}
            meta = {k.lower(): v for k, v in ckpt_meta.items()}
        else:
            warnings.warn(
                'no checkpoint given: the predictions come from randomly '
                'initialised weights'
            )
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

    def _init_pipeline(self, cfg: ConfigType) -> Compose:
        """Test pipeline that starts from a loaded image array.

        ``LoadImageFromFile`` becomes ``LoadImageFromNDArray`` (the
        inferencer reads files itself, to report unreadable ones) and
        annotation loaders are dropped.
        """
        pipeline_cfg = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
        pipeline_cfg = [
            t for t in pipeline_cfg if t['type'] not in ANNOTATION_LOADERS
        ]
        if 'meta_keys' in pipeline_cfg[-1]:
            pipeline_cfg[-1]['meta_keys'] = tuple(
                k for k in pipeline_cfg[-1]['meta_keys'] if k != 'img_id'
            )
        idx = self._get_transform_idx(
            pipeline_cfg, ('LoadImageFromFile', 'mmdet.LoadImageFromFile')
        )
        if idx == -1:
            raise ValueError(
                'test_dataloader.dataset.pipeline of the config has no '
                'LoadImageFromFile; it must start by loading the image'
            )
        load_cfg = dict(pipeline_cfg[idx])
        self._imread_args = dict(
            flag=load_cfg.get('color_type', 'color'),
            backend=load_cfg.get('imdecode_backend', 'cv2'),
            backend_args=load_cfg.get('backend_args'),
        )
        pipeline_cfg[idx] = dict(
            type='mmdet.LoadImageFromNDArray',
            to_float32=load_cfg.get('to_float32', False),
        )
        return Compose(pipeline_cfg)

    def _init_collate(self, cfg: ConfigType) -> Callable:
        """The config's ``test_dataloader.collate_fn``, by default
        ``pseudo_collate`` (as the parent, without its registry warning)."""
        if cfg.test_dataloader.get('collate_fn') is None:
            return pseudo_collate
        return super()._init_collate(cfg)

    def _init_visualizer(self, cfg: ConfigType):
        """The config's visualizer, else an ``AttrDetLocalVisualizer``."""
        if 'visualizer' not in cfg:
            cfg.visualizer = dict(type='AttrDetLocalVisualizer')
        return super()._init_visualizer(cfg)

    # -------------------------------------------------------------- inputs
    def _inputs_to_list(self, inputs: InputsType) -> list:
        """A list of paths or arrays; a folder becomes its image files.

        Raises:
            FileNotFoundError: if a folder holds no image file.
        """
        if isinstance(inputs, str) and osp.isdir(inputs):
            files = sorted(
                f
                for f in os.listdir(inputs)
                if f.lower().endswith(IMG_EXTENSIONS)
                and osp.isfile(osp.join(inputs, f))
            )
            if not files:
                raise FileNotFoundError(
                    f'no image in folder {inputs} (looked for the '
                    f'extensions {", ".join(IMG_EXTENSIONS)})'
                )
            return [osp.join(inputs, f) for f in files]
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs]

    def read_image(self, path: str) -> np.ndarray:
        """Read an image file as the config's loader would (BGR by default).

        Args:
            path (str): Image path.

        Returns:
            np.ndarray: The image, shape (H, W, 3).

        Raises:
            UnreadableImageError: if the file is missing or not an image.
        """
        args = self._imread_args
        try:
            img_bytes = mmengine.fileio.get(
                path, backend_args=args['backend_args']
            )
            img = mmcv.imfrombytes(
                img_bytes, flag=args['flag'], backend=args['backend']
            )
        except (OSError, ValueError, cv2.error) as e:
            raise UnreadableImageError(
                f'cannot read image {path}: {e}. Check that the file exists '
                'and is a complete image, or remove it from the input'
            ) from e
        if img is None:
            raise UnreadableImageError(
                f'cannot decode image {path}: the file is empty, truncated '
                'or not an image. Re-export it as JPEG/PNG or remove it from '
                'the input'
            )
        return img

    def _load(self, single_input: InputType) -> Tuple[np.ndarray, dict]:
        """Image array (for drawing) and pipeline output of one input."""
        if isinstance(single_input, str):
            img = self.read_image(single_input)
        elif isinstance(single_input, np.ndarray):
            img = single_input
        else:
            raise TypeError(
                'an input must be an image path or an array (H, W, 3), got '
                f'{type(single_input).__name__}'
            )
        return img, self.pipeline(dict(img=img))

    # ---------------------------------------------------------------- call
    def __call__(
        self,
        inputs: InputsType,
        batch_size: int = 1,
        score_thr: Optional[float] = None,
        attr_thr: AttrThr = None,
        out_dir: str = '',
        no_save_vis: bool = False,
        no_save_pred: bool = False,
        return_vis: bool = False,
        show: bool = False,
        wait_time: float = 0,
        return_datasamples: bool = False,
        skip_unreadable: bool = False,
    ) -> dict:
        """Predict the instances of every input image.

        Args:
            inputs (str | np.ndarray | list): An image path, an image array
                (H, W, 3) in BGR, a list of them, or a folder.
            batch_size (int): Images per forward pass. Defaults to 1.
            score_thr (float, optional): Drop instances scoring below it.
                Defaults to None (the inferencer's ``score_thr``).
            attr_thr (float | dict[str, float], optional): Attribute
                thresholds (see the class doc). Defaults to None (the
                inferencer's ``attr_thr``).
            out_dir (str): Write ``<name>.json`` and ``<name>.png`` (the
                drawn prediction) per image here; ``<name>`` is the image
                file name without extension (with ``_1``, ``_2``... when two
                inputs share it), or an 8-digit counter for arrays. ``''``
                writes nothing. Defaults to ''.
            no_save_vis (bool): Write no PNG. Defaults to False.
            no_save_pred (bool): Write no JSON. Defaults to False.
            return_vis (bool): Return the drawn images. Defaults to False.
            show (bool): Show the drawn images in a window.
                Defaults to False.
            wait_time (float): Seconds each shown image stays.
                Defaults to 0.
            return_datasamples (bool): Return :obj:`DetDataSample` (after
                the thresholds) instead of dicts. Defaults to False.
            skip_unreadable (bool): Skip an image that cannot be read and
                list it in ``failed`` instead of raising. Defaults to False.

        Returns:
            dict: ``predictions`` (list[dict | DetDataSample], one per read
            image), ``visualization`` (list[np.ndarray] of RGB images, or
            None unless ``return_vis``) and ``failed`` (list[dict] of
            ``{'input': ..., 'error': ...}`` for the skipped images).

        Raises:
            UnreadableImageError: for an unreadable image, unless
                ``skip_unreadable``.
        """
        score_thr = self.score_thr if score_thr is None else score_thr
        group_thrs = self._group_thrs(
            self.attr_thr if attr_thr is None else attr_thr
        )
        ori_inputs = self._inputs_to_list(inputs)
        if out_dir:
            mmengine.mkdir_or_exist(out_dir)
        out_names = self._out_names(ori_inputs)
        results: dict = dict(
            predictions=[],
            visualization=[] if return_vis else None,
            failed=[],
        )
        chunks = self._chunks(
            ori_inputs, out_names, batch_size, skip_unreadable, results
        )
        if self.show_progress:
            chunks = track(
                chunks,
                description='Inference',
                total=math.ceil(len(ori_inputs) / batch_size),
            )
        for chunk in chunks:
            if not chunk:
                continue
            sources, names, imgs, data = zip(*chunk)
            preds = self.forward(self.collate_fn(list(data)))
            for source, pred in zip(sources, preds):
                pred.set_metainfo(
                    dict(img_path=source if isinstance(source, str) else None)
                )
                pred.pred_instances = self.apply_thresholds(
                    pred.pred_instances.cpu(), score_thr, group_thrs
                )
            vis = self.visualize(
                imgs,
                preds,
                names,
                out_dir='' if no_save_vis else out_dir,
                return_vis=return_vis,
                show=show,
                wait_time=wait_time,
            )
            if return_vis:
                results['visualization'].extend(vis)
            results['predictions'].extend(
                self.postprocess(
                    preds,
                    names,
                    out_dir='' if no_save_pred else out_dir,
                    return_datasamples=return_datasamples,
                )
            )
        return results

    def _out_names(self, inputs: list) -> List[str]:
        """Output file stem of every input, unique within the call."""
        names, seen = [], {}
        for single_input in inputs:
            if isinstance(single_input, str):
                stem = osp.splitext(osp.basename(single_input))[0]
            else:
                stem = f'{self.num_predicted_imgs:08d}'
                self.num_predicted_imgs += 1
            count = seen.get(stem, 0)
            seen[stem] = count + 1
            names.append(stem if count == 0 else f'{stem}_{count}')
        return names

    def _chunks(
        self,
        inputs: list,
        names: List[str],
        batch_size: int,
        skip_unreadable: bool,
        results: dict,
    ):
        """Yield lists of (input, name, image, data); each list is one
        batch, possibly shorter (or empty) where images were skipped."""
        for start in range(0, len(inputs), batch_size):
            chunk = []
            for single_input, name in zip(
                inputs[start : start + batch_size],
                names[start : start + batch_size],
            ):
                try:
                    img, data = self._load(single_input)
                except UnreadableImageError as e:
                    if not skip_unreadable:
                        raise
                    print_log(
                        f'skipped: {e}',
                        logger='current',
                        level=logging.WARNING,
                    )
                    results['failed'].append(
                        dict(input=single_input, error=str(e))
                    )
                    continue
                chunk.append((single_input, name, img, data))
            yield chunk

    # ---------------------------------------------------------- thresholds
    def _group_thrs(self, attr_thr: AttrThr) -> Dict[str, float]:
        """``{group: thr}`` of the groups that have a threshold.

        Raises:
            ValueError: for an undeclared group or a threshold outside
                [0, 1].
        """
        if attr_thr is None:
            return {}
        if isinstance(attr_thr, Mapping):
            thrs = {str(k): float(v) for k, v in attr_thr.items()}
        else:
            thrs = {name: float(attr_thr) for name in self.attr_spec.names}
        undeclared = sorted(set(thrs) - set(self.attr_spec.names))
        if undeclared:
            raise ValueError(
                f'attr_thr names undeclared attribute group(s) {undeclared}; '
                f'the model has {self.attr_spec.names}'
            )
        for name, thr in thrs.items():
            if not 0.0 <= thr <= 1.0:
                raise ValueError(
                    f'attr_thr of group "{name}" is {thr}; give a '
                    'probability in [0, 1]'
                )
        return thrs

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
            not group_thrs
            or 'attr_labels' not in instances
            or 'attr_scores' not in instances
        ):
            return instances
        labels = instances.attr_labels.clone()
        scores = instances.attr_scores
        label_slices = self.attr_spec.label_slices
        score_slices = self.attr_spec.score_slices
        for group in self.attr_spec:
            thr = group_thrs.get(group.name)
            if thr is None:
                continue
            cols = labels[:, label_slices[group.name]]
            probs = scores[:, score_slices[group.name]]
            if group.multi_label:
                # (N, K) -> (N, ): any value neither surely on nor off
                unsure = ((probs > 1 - thr) & (probs < thr)).any(-1)
            else:
                # (N, 1) -> (N, 1): probability of the predicted value
                chosen = probs.gather(-1, cols.clamp(min=0))
                unsure = chosen[:, 0] < thr
            cols[unsure] = UNKNOWN
        instances.attr_labels = labels
        return instances

    # -------------------------------------------------------------- output
    def visualize(
        self,
        imgs: Sequence[np.ndarray],
        preds: Sequence[DetDataSample],
        names: Sequence[str],
        out_dir: str = '',
        return_vis: bool = False,
        show: bool = False,
        wait_time: float = 0,
    ) -> Optional[List[np.ndarray]]:
        """Draw the predictions of a batch.

        Args:
            imgs (Sequence[np.ndarray]): Images as read, (H, W, 3) BGR or
                (H, W) grey.
            preds (Sequence[:obj:`DetDataSample`]): Their predictions.
            names (Sequence[str]): Output file stems.
            out_dir (str): Write ``<out_dir>/<name>.png`` unless ``''``.
                Defaults to ''.
            return_vis (bool): Return the drawn images. Defaults to False.
            show (bool): Show them in a window. Defaults to False.
            wait_time (float): Seconds each shown image stays.
                Defaults to 0.

        Returns:
            list[np.ndarray] | None: The drawn RGB images (H, W, 3) if
            anything was drawn, else None.
        """
        if not (out_dir or return_vis or show):
            return None
        if self.visualizer is None:
            raise ValueError(
                'drawing needs a "visualizer" in the config, e.g. '
                "visualizer = dict(type='AttrDetLocalVisualizer')"
            )
        drawn = []
        for img, pred, name in zip(imgs, preds, names):
            if img.ndim == 2:
                img = np.repeat(img[..., None], 3, axis=-1)
            else:
                img = img[..., 2::-1]  # BGR -> RGB
            self.visualizer.add_datasample(
                name,
                img,
                pred,
                draw_gt=False,
                show=show,
                wait_time=wait_time,
                out_file=osp.join(out_dir, f'{name}.png') if out_dir else None,
                pred_score_thr=-1.0,  # the thresholds are applied already
            )
            drawn.append(self.visualizer.get_image())
        return drawn

    def postprocess(
        self,
        preds: Sequence[DetDataSample],
        names: Sequence[str],
        out_dir: str = '',
        return_datasamples: bool = False,
    ) -> list:
        """Records of a batch; write ``<out_dir>/<name>.json`` per image.

        Args:
            preds (Sequence[:obj:`DetDataSample`]): Predictions.
            names (Sequence[str]): Output file stems.
            out_dir (str): Write the JSON files here unless ``''``.
                Defaults to ''.
            return_datasamples (bool): Return ``preds`` instead of the
                records. Defaults to False.

        Returns:
            list[dict | DetDataSample]: One per prediction.
        """
        records = []
        for pred, name in zip(preds, names):
            record = self.pred2dict(pred)
            if out_dir:
                mmengine.dump(
                    record, osp.join(out_dir, f'{name}.json'), indent=2
                )
            records.append(pred if return_datasamples else record)
        return records

    def pred2dict(
        self, data_sample: DetDataSample, pred_out_dir: str = ''
    ) -> dict:
        """The JSON-serialisable record of one image.

        Args:
            data_sample (:obj:`DetDataSample`): Prediction with
                ``pred_instances`` (``masks`` (N, H, W), ``bboxes`` (N, 4),
                ``labels`` (N, ), ``scores`` (N, ), optional
                ``attr_labels`` (N, D) and ``attr_scores`` (N, S)).
            pred_out_dir (str): Unused; :meth:`__call__` writes the files.

        Returns:
            dict: ``image``, ``height``, ``width``, ``instances`` as in the
            class doc and ``docs/inference.md``.
        """
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
                    attributes=self._attributes_dict(
                        pred.attr_labels[i].tolist(),
                        pred.attr_scores[i].tolist(),
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

    def _attributes_dict(
        self, attr_labels: List[int], attr_scores: List[float]
    ) -> dict:
        """``{group: {value, score}}`` of one instance.

        Args:
            attr_labels (list[int]): Label row of width D.
            attr_scores (list[float]): Score row of width S.

        Returns:
            dict: single-label group ``{'value': str, 'score': float}``;
            multi-label group ``{'value': [str], 'score': [float]}`` (the
            present values and their probabilities); unknown group
            ``{'value': None, 'score': None}``.
        """
        out = {}
        label_slices = self.attr_spec.label_slices
        score_slices = self.attr_spec.score_slices
        for group in self.attr_spec:
            cols = attr_labels[label_slices[group.name]]
            probs = attr_scores[score_slices[group.name]]
            if any(c == UNKNOWN for c in cols):
                out[group.name] = dict(value=None, score=None)
            elif group.multi_label:
                chosen = [k for k, c in enumerate(cols) if c == 1]
                out[group.name] = dict(
                    value=[group.values[k] for k in chosen],
                    score=[float(probs[k]) for k in chosen],
                )
            else:
                out[group.name] = dict(
                    value=group.values[cols[0]], score=float(probs[cols[0]])
                )
        return out
