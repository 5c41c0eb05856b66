"""An exported attribute Mask2Former run by ONNX Runtime, as an mmengine
model.

The graph computes the logits; the rest is the PyTorch model's own code:
the data preprocessor and the fusion head are built from the config stored
in the file, and the outputs go through
:meth:`AttrMaskFormerFusionHead.predict` and
:meth:`MaskFormer.add_pred_to_datasample` exactly as in
``MaskFormer.predict``. ``onnxruntime`` is imported when a model is built.
"""

from typing import Optional, Sequence, Tuple, Union

import torch
from mmdet.models.detectors import MaskFormer
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmengine.config import Config
from mmengine.model import BaseModel
from torch import Tensor

from .errors import DeployError, InputMismatchError
from .metadata import INPUT_NAME, ExportedModelInfo


def _session(onnx_file: str, providers: Sequence[str]):
    """An ONNX Runtime session of ``onnx_file`` (onnxruntime imported
    here)."""
    try:
        import onnxruntime as ort
    except ImportError as e:
        raise DeployError(
            f'{onnx_file}: running an ONNX model needs onnxruntime: '
            'pip install "mmmultilabel[deploy]"'
        ) from e
    missing = [p for p in providers if p not in ort.get_available_providers()]
    if missing:
        raise DeployError(
            f'{onnx_file}: ONNX Runtime has no {missing} here (available: '
            f'{ort.get_available_providers()}); run on the CPU, or install '
            'the onnxruntime build for your device (onnxruntime-gpu)'
        )
    try:
        return ort.InferenceSession(onnx_file, providers=list(providers))
    except Exception as e:  # onnxruntime raises its own exception types
        raise DeployError(
            f'{onnx_file}: ONNX Runtime cannot load the file ({e}); give '
            'a graph written by tools/deployment/export_onnx.py'
        ) from e


@MODELS.register_module()
class OnnxAttrMask2Former(BaseModel):
    """An exported attribute Mask2Former behind mmengine's model interface.

    ``test_step`` / ``forward(mode='predict')`` give the same
    :obj:`DetDataSample` predictions as the PyTorch model's (instances with
    ``attr_labels`` and ``attr_scores``), ``forward(mode='tensor')`` the
    graph's outputs. A static graph takes exactly the batch shape it was
    exported for; another shape raises :class:`InputMismatchError`.

    Args:
        onnx_file (str): Graph written by
            :func:`~mmmultilabel.deploy.export_onnx`.
        device (str): ``'cpu'`` (ONNX Runtime's CPU provider) or
            ``'cuda'`` / ``'cuda:N'`` (its CUDA provider, which needs
            ``onnxruntime-gpu``; untested here). Defaults to 'cpu'.
    """

    def __init__(self, onnx_file: str, device: str = 'cpu') -> None:
        providers = ['CPUExecutionProvider']
        if str(device).startswith('cuda'):
            providers.insert(0, 'CUDAExecutionProvider')
        session = _session(onnx_file, providers)
        info = ExportedModelInfo.from_props(
            session.get_modelmeta().custom_metadata_map, onnx_file
        )
        cfg = Config.fromstring(info.config, file_format='.py')
        super().__init__(data_preprocessor=cfg.model.data_preprocessor)
        self.onnx_file = onnx_file
        self.session = session
        self.info = info
        self.cfg = cfg
        self.panoptic_fusion_head = MODELS.build(info.fusion_head)
        self.dataset_meta = info.dataset_meta
        self.output_names = [
            info.outputs['cls_logits'],
            info.outputs['mask_logits'],
        ] + info.attr_outputs

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        """Check the channels of the raw images, then mmengine's step.

        Raises:
            InputMismatchError: if an image has another number of channels
                than the graph takes.
        """
        channels = self.info.input_shape[1]
        for img in data['inputs'] if isinstance(data, dict) else []:
            if img.shape[0] != channels:
                raise InputMismatchError(
                    f'{self.onnx_file} takes images of {channels} channels '
                    f'(BGR), got an image of shape {tuple(img.shape)} '
                    f'(C, H, W); convert grey or RGBA images to 3-channel '
                    "colour first (e.g. mmcv.imread(path, 'color'))"
                )
        return super().test_step(data)

    def forward(
        self,
        inputs: Tensor,
        data_samples: Optional[SampleList] = None,
        mode: str = 'predict',
    ) -> Union[SampleList, Tuple[Tensor, ...]]:
        """Predictions (``'predict'``) or graph outputs (``'tensor'``).

        Args:
            inputs (Tensor): Normalised padded batch (N, 3, H, W).
            data_samples (list[:obj:`DetDataSample`], optional): Metainfo
                of every image (``img_shape``, ``ori_shape``); needed for
                ``'predict'``.
            mode (str): ``'predict'`` or ``'tensor'``.

        Returns:
            list[:obj:`DetDataSample`] | tuple[Tensor]: The data samples
            with ``pred_instances``, or the graph outputs (see
            :meth:`run`).
        """
        if mode == 'tensor':
            return self.run(inputs)
        if mode != 'predict':
            raise DeployError(
                f'{self.onnx_file}: an exported model only predicts; mode '
                f'{mode!r} needs the PyTorch model'
            )
        return self.predict(inputs, data_samples)

    def run(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """The graph's outputs as CPU tensors.

        Args:
            inputs (Tensor): Normalised padded batch (N, 3, H, W).

        Returns:
            tuple[Tensor]: Class logits (N, Q, C + 1), mask logits
            (N, Q, H, W), then one (N, Q, K + 1 or K) tensor per attribute
            group in group order.

        Raises:
            InputMismatchError: if a static graph was exported for another
                shape.
        """
        expected = self.info.input_shape
        got = list(inputs.shape)
        if len(got) != len(expected) or any(
            e is not None and e != g for e, g in zip(expected, got)
        ):
            shown = 'x'.join('?' if e is None else str(e) for e in expected)
            raise InputMismatchError(
                f'{self.onnx_file} was exported for a fixed input of '
                f'{shown} (N x C x H x W) but the batch is '
                f'{"x".join(map(str, got))} (after the pipeline resized and '
                'padded it); export again with --shape '
                f'{got[-2]} {got[-1]} or with --dynamic, or use batch size '
                '1 and a test pipeline that yields the exported size'
            )
        array = inputs.detach().cpu().float().contiguous().numpy()
        outputs = self.session.run(self.output_names, {INPUT_NAME: array})
        return tuple(torch.from_numpy(out) for out in outputs)

    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Instances with attributes, as ``MaskFormer.predict`` gives them.

        Args:
            inputs (Tensor): Normalised padded batch (N, 3, H, W).
            data_samples (list[:obj:`DetDataSample`]): Metainfo per image.

        Returns:
            list[:obj:`DetDataSample`]: With ``pred_instances`` (and
            ``pred_panoptic_seg`` if the fusion head's ``panoptic_on``).
        """
        cls_logits, mask_logits, *attr_logits = self.run(inputs)
        # (N, Q, C + 1), (N, Q, A_g)... -> (N, Q, C + 1 + A): the layout of
        # the PyTorch head's cls_pred
        mask_cls = torch.cat([cls_logits, *attr_logits], dim=-1)
        results_list = self.panoptic_fusion_head.predict(
            mask_cls, mask_logits, data_samples, rescale=True
        )
        # MaskFormer's own method; it reads nothing from the detector
        return MaskFormer.add_pred_to_datasample(
            self, data_samples, results_list
        )
