"""Export to ONNX and run the exported graph (``docs/deployment.md``).

Neither ``onnx`` nor ``onnxruntime`` is imported here: they are imported
when a model is exported or an exported model is loaded.
"""

from .errors import (
    DeployError,
    InputMismatchError,
    MissingMetadataError,
    UnsupportedModelError,
)
from .export_graph import (
    AttrMask2FormerGraph,
    check_exportable,
    check_exportable_config,
)
from .metadata import ExportedModelInfo, attr_output_name
from .onnx_export import DEFAULT_OPSET, MIN_OPSET, export_onnx, model_info
from .ort_model import OnnxAttrMask2Former

__all__ = [
    'DeployError',
    'InputMismatchError',
    'MissingMetadataError',
    'UnsupportedModelError',
    'AttrMask2FormerGraph',
    'check_exportable',
    'check_exportable_config',
    'ExportedModelInfo',
    'attr_output_name',
    'DEFAULT_OPSET',
    'MIN_OPSET',
    'export_onnx',
    'model_info',
    'OnnxAttrMask2Former',
]
