"""The part of an attribute Mask2Former that an exported graph holds."""

from typing import Tuple

import torch.nn as nn
from mmdet.models.detectors import MaskFormer
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from torch import Tensor

from ..models import AttrMask2FormerHead, AttrMaskFormerFusionHead
from ..models.utils import split_attr_logits, split_class_attr_logits
from .errors import UnsupportedModelError


def _unsupported(source: str, parts: list) -> UnsupportedModelError:
    return UnsupportedModelError(
        f'{source}: builds {", ".join(parts)}; the ONNX export handles '
        'Mask2Former detectors with panoptic_head=AttrMask2FormerHead and '
        'panoptic_fusion_head=AttrMaskFormerFusionHead (e.g. configs/'
        'mask2former-attr/*.py); give the config the checkpoint was '
        'trained with, or export other models with mmdeploy'
    )


def check_exportable_config(cfg: Config, source: str) -> None:
    """Raise unless ``cfg.model`` builds a Mask2Former with the attribute
    heads (checked on the registered types, without building).

    Args:
        cfg (:obj:`Config`): The config.
        source (str): Its file, for the message.

    Raises:
        UnsupportedModelError: for any other architecture.
    """
    model = cfg.get('model') or {}
    wanted = (
        ('type', model, MaskFormer),
        ('panoptic_head', model.get('panoptic_head'), AttrMask2FormerHead),
        (
            'panoptic_fusion_head',
            model.get('panoptic_fusion_head'),
            AttrMaskFormerFusionHead,
        ),
    )
    parts, ok = [], True
    for key, sub, base in wanted:
        cls = MODELS.get(sub.get('type')) if isinstance(sub, dict) else None
        name = getattr(cls, '__name__', None) or repr(
            sub.get('type') if isinstance(sub, dict) else sub
        )
        parts.append(name if key == 'type' else f'{key}={name}')
        ok &= isinstance(cls, type) and issubclass(cls, base)
    if not ok:
        raise _unsupported(source, parts)


def check_exportable(model: nn.Module, source: str) -> None:
    """Raise unless ``model`` is a Mask2Former with the attribute heads.

    Args:
        model (nn.Module): The built detector.
        source (str): Config (and checkpoint) it comes from, for the
            message.

    Raises:
        UnsupportedModelError: for any other architecture.
    """
    head = getattr(model, 'panoptic_head', None)
    fusion = getattr(model, 'panoptic_fusion_head', None)
    if (
        isinstance(model, MaskFormer)
        and isinstance(head, AttrMask2FormerHead)
        and isinstance(fusion, AttrMaskFormerFusionHead)
    ):
        return
    parts = [type(model).__name__]
    if head is not None:
        parts.append(f'panoptic_head={type(head).__name__}')
    if fusion is not None:
        parts.append(f'panoptic_fusion_head={type(fusion).__name__}')
    raise _unsupported(source, parts)


class AttrMask2FormerGraph(nn.Module):
    """Image batch in, the last decoder layer's logits out.

    Runs the detector's own ``extract_feat`` and ``panoptic_head.predict``
    (the mask logits upsampled to the input size, as the detector's
    ``predict`` passes them to the fusion head); the fusion head, which
    turns logits into instances, stays outside the graph. The input size
    is read from the input tensor, so that a traced graph with dynamic
    axes upsamples to the size it is given.

    Args:
        detector (:obj:`MaskFormer`): Mask2Former with
            :class:`~mmmultilabel.models.AttrMask2FormerHead` and
            :class:`~mmmultilabel.models.AttrMaskFormerFusionHead`.
    """

    def __init__(self, detector: MaskFormer) -> None:
        super().__init__()
        check_exportable(detector, type(detector).__name__)
        self.detector = detector

    def forward(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        """Logits of every query.

        Args:
            inputs (Tensor): Normalised, padded images (N, 3, H, W).

        Returns:
            tuple[Tensor]: Class logits (N, Q, num_classes + 1), mask logits
            (N, Q, H, W), then one tensor per attribute group in group
            order, (N, Q, K + 1) single-label or (N, Q, K) multi-label.
        """
        sample = DetDataSample()
        # set_field, not set_metainfo: the latter deep-copies the size,
        # which turns the traced height and width into constants
        sample.set_field(
            inputs.shape[-2:], 'batch_input_shape', field_type='metainfo'
        )
        feats = self.detector.extract_feat(inputs)
        head = self.detector.panoptic_head
        mask_cls, mask_pred = head.predict(feats, [sample])
        # (N, Q, C + 1 + A) -> (N, Q, C + 1), (N, Q, A)
        cls_logits, attr_logits = split_class_attr_logits(
            mask_cls, head.num_classes, head.attr_spec
        )
        attr_outputs = split_attr_logits(attr_logits, head.attr_spec)
        return (cls_logits, mask_pred, *attr_outputs)
