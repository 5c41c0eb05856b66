"""Export an attribute Mask2Former to one ONNX graph with its metadata.

The graph is traced by PyTorch's TorchScript-based exporter
(``torch.onnx.export(..., dynamo=False)``). mmcv's
``MultiScaleDeformableAttention`` takes its pure PyTorch path on the CPU
(``grid_sample``, hence opset 16 or later) and the masked attention of
mmdet 3.3's decoder has no data-dependent shape, so the graph holds
standard ONNX operators only. ``onnx`` is imported when a model is
exported, never on ``import mmmultilabel``.
"""

import os.path as osp
import warnings
from typing import Optional, Sequence

import torch
from mmdet.models.detectors import MaskFormer
from mmengine.config import Config

from .errors import DeployError, UnsupportedModelError
from .export_graph import AttrMask2FormerGraph, check_exportable
from .metadata import (
    CLS_OUTPUT,
    INPUT_NAME,
    MASK_OUTPUT,
    ExportedModelInfo,
    attr_output_name,
)

#: ``grid_sample`` (deformable attention) is an ONNX operator from opset 16.
MIN_OPSET = 16
DEFAULT_OPSET = 17
EXPORTER = 'torch.onnx.export (TorchScript tracer, dynamo=False)'


def _plain(value):
    """``value`` with every ConfigDict turned into a dict (JSON-ready)."""
    if hasattr(value, 'to_dict'):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def model_info(
    model: MaskFormer,
    cfg: Config,
    input_shape: Sequence[Optional[int]],
    opset: int,
    checkpoint: str,
) -> ExportedModelInfo:
    """The metadata of the graph of ``model`` (see
    :mod:`~mmmultilabel.deploy.metadata`).

    Args:
        model (:obj:`MaskFormer`): The detector, with ``dataset_meta``
            (``classes``, ``attribute_groups``, ``palette``).
        cfg (:obj:`Config`): Its config.
        input_shape (Sequence[int | None]): ``[N, C, H, W]``, None for a
            dynamic axis.
        opset (int): ONNX opset.
        checkpoint (str): Path of the exported checkpoint.
    """
    fusion = model.panoptic_fusion_head
    groups = fusion.attr_spec.to_list()
    fusion_cfg = _plain(cfg.model.panoptic_fusion_head)
    fusion_cfg.update(
        attribute_groups=groups, test_cfg=_plain(fusion.test_cfg)
    )
    pre = model.data_preprocessor
    return ExportedModelInfo(
        classes=list(model.dataset_meta['classes']),
        attribute_groups=groups,
        palette=_plain(model.dataset_meta.get('palette', 'random')),
        outputs=dict(
            cls_logits=CLS_OUTPUT,
            mask_logits=MASK_OUTPUT,
            attributes={
                g['name']: attr_output_name(g['name']) for g in groups
            },
        ),
        postprocess=dict(
            score_mode=fusion.score_mode,
            attr_value_thr=fusion.attr_value_thr,
            attr_unknown_thrs=fusion.attr_unknown_thrs,
            max_per_image=fusion.test_cfg.get('max_per_image', 100),
            mask_logit_thr=0.0,
        ),
        fusion_head=fusion_cfg,
        preprocess=dict(
            mean=pre.mean.flatten().tolist()
            if pre._enable_normalize
            else None,
            std=pre.std.flatten().tolist() if pre._enable_normalize else None,
            bgr_to_rgb=bool(pre._channel_conversion),
            pad_size_divisor=pre.pad_size_divisor,
        ),
        input_shape=list(input_shape),
        config=cfg.pretty_text,
        exporter=f'{EXPORTER}, torch {torch.__version__}',
        opset=opset,
        checkpoint=osp.basename(checkpoint),
    )


def export_onnx(
    model: MaskFormer,
    cfg: Config,
    out_file: str,
    shape: Optional[Sequence[int]] = None,
    dynamic: bool = False,
    opset: int = DEFAULT_OPSET,
    checkpoint: str = '',
) -> ExportedModelInfo:
    """Write the graph of ``model`` with its metadata to ``out_file``.

    Inputs: ``input`` (N, 3, H, W), the normalised padded image batch.
    Outputs: ``cls_logits`` (N, Q, C + 1), ``mask_logits`` (N, Q, H, W)
    and ``attr_<group>`` (N, Q, K + 1 or K) per attribute group.

    Args:
        model (:obj:`MaskFormer`): The detector with ``dataset_meta``.
        cfg (:obj:`Config`): Its config.
        out_file (str): The ONNX file to write.
        shape (Sequence[int], optional): ``(H, W)`` of the traced input; the
            size of a static graph. Multiples of the data preprocessor's
            ``pad_size_divisor``. Required unless ``dynamic``; with
            ``dynamic`` defaults to 256 x 256.
        dynamic (bool): Batch size, height and width dynamic. Defaults to
            False (batch of one image of ``shape``).
        opset (int): ONNX opset, at least 16. Defaults to 17.
        checkpoint (str): Path of the checkpoint, recorded in the metadata.

    Returns:
        :obj:`ExportedModelInfo`: The metadata written.

    Raises:
        DeployError: for a missing or unusable ``shape`` or too low an
            ``opset``.
        UnsupportedModelError: for a model of another architecture, or a
            graph that needs operators outside the standard domain.
    """
    import onnx

    check_exportable(model, cfg.filename or 'the config')
    if opset < MIN_OPSET:
        raise DeployError(
            f'opset {opset} has no GridSample, which the deformable '
            f'attention needs; give --opset {MIN_OPSET} or later'
        )
    divisor = model.data_preprocessor.pad_size_divisor
    if shape is None:
        if not dynamic:
            raise DeployError(
                'a static graph needs its input size: give --shape H W '
                '(the padded size the test pipeline produces), or --dynamic'
            )
        shape = (256, 256)
    height, width = (int(s) for s in shape)
    if height % divisor or width % divisor or height <= 0 or width <= 0:
        raise DeployError(
            f'--shape {height} {width}: the data preprocessor pads every '
            f'image to a multiple of {divisor}, so a graph for this size '
            'would never be fed; give multiples of it'
        )
    model = model.cpu().eval()
    graph = AttrMask2FormerGraph(model).eval()
    groups = model.panoptic_fusion_head.attr_spec.names
    outputs = [CLS_OUTPUT, MASK_OUTPUT] + [attr_output_name(g) for g in groups]
    dynamic_axes = None
    if dynamic:
        dynamic_axes = {INPUT_NAME: {0: 'batch', 2: 'height', 3: 'width'}}
        dynamic_axes.update({name: {0: 'batch'} for name in outputs})
        dynamic_axes[MASK_OUTPUT].update({2: 'height', 3: 'width'})
    dummy = torch.randn(
        1, 3, height, width, generator=torch.Generator().manual_seed(0)
    )
    with warnings.catch_warnings():
        # the tracer warns at every Python int it records as a constant;
        # the dynamic test sizes check that the graph follows the input
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        warnings.filterwarnings('ignore', category=DeprecationWarning)
        with torch.no_grad():
            torch.onnx.export(
                graph,
                (dummy,),
                out_file,
                input_names=[INPUT_NAME],
                output_names=outputs,
                dynamic_axes=dynamic_axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
    proto = onnx.load(out_file)
    custom = sorted(
        {n.domain for n in proto.graph.node if n.domain not in ('', 'ai.onnx')}
    )
    if custom:
        raise UnsupportedModelError(
            f'{out_file}: the graph uses operators of the domain(s) '
            f'{custom}, which ONNX Runtime does not have; export on the CPU '
            "so that mmcv's deformable attention takes its grid_sample path"
        )
    input_shape = [None, 3, None, None] if dynamic else [1, 3, height, width]
    info = model_info(model, cfg, input_shape, opset, checkpoint)
    for key, value in info.to_props().items():
        prop = proto.metadata_props.add()
        prop.key, prop.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, out_file)
    return info
