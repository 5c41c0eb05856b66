"""What an exported graph carries besides its weights: ``metadata_props``.

Every value is a string (ONNX stores string pairs); structured values are
JSON. The keys are those of :data:`METADATA_KEYS`:

- ``mmmultilabel_format``: version of this layout (``'1'``).
- ``classes``: the class names, in label order.
- ``attribute_groups``: ``[{name, values, multi_label}]`` in group order.
- ``palette``: the class colours.
- ``outputs``: ``{'cls_logits': ..., 'mask_logits': ...,
  'attributes': {group: output name}}``.
- ``postprocess``: the settings of the post-processing outside the graph
  (``score_mode``, ``attr_value_thr``, ``attr_unknown_thrs``,
  ``max_per_image``; a mask pixel is on where its logit is > 0).
- ``fusion_head``: the config of the fusion head that post-processes the
  outputs (``test_cfg`` included).
- ``preprocess``: ``mean``, ``std``, ``bgr_to_rgb``, ``pad_size_divisor``
  of the data preprocessor.
- ``input_shape``: ``[N, C, H, W]``, ``null`` for a dynamic axis.
- ``config``: the whole config (test pipeline, data preprocessor).
- ``exporter``, ``opset``, ``checkpoint``: how the file was made.
"""

import json
import logging
from dataclasses import dataclass
from typing import Dict, List, Optional

from mmengine.logging import print_log

from .errors import MissingMetadataError

FORMAT_VERSION = '1'

METADATA_KEYS = (
    'mmmultilabel_format',
    'classes',
    'attribute_groups',
    'palette',
    'outputs',
    'postprocess',
    'fusion_head',
    'preprocess',
    'input_shape',
    'config',
    'exporter',
    'opset',
    'checkpoint',
)

# Keys whose value is stored as it is; every other value is JSON (also a
# plain string such as the palette ``'random'``).
TEXT_KEYS = ('config', 'exporter', 'checkpoint')

# Names of the graph's input and of its first two outputs (as mmdeploy's
# Mask2Former graphs); the attribute outputs are ``attr_<group>``.
INPUT_NAME = 'input'
CLS_OUTPUT = 'cls_logits'
MASK_OUTPUT = 'mask_logits'


def attr_output_name(group: str) -> str:
    """Name of the graph output of one attribute group."""
    return f'attr_{group}'


@dataclass
class ExportedModelInfo:
    """The metadata of an exported graph, decoded.

    Attributes:
        classes (list[str]): Class names.
        attribute_groups (list[dict]): The attribute groups.
        palette (list | str): Class colours.
        outputs (dict): Output names, see the module doc.
        postprocess (dict): Post-processing settings.
        fusion_head (dict): Config of the fusion head.
        preprocess (dict): Data preprocessor settings.
        input_shape (list): ``[N, C, H, W]``, None for a dynamic axis.
        config (str): The model's config as Python text.
        exporter (str): Exporter that wrote the graph.
        opset (int): ONNX opset.
        checkpoint (str): File name of the exported checkpoint.
    """

    classes: List[str]
    attribute_groups: List[dict]
    palette: object
    outputs: dict
    postprocess: dict
    fusion_head: dict
    preprocess: dict
    input_shape: List[Optional[int]]
    config: str
    exporter: str
    opset: int
    checkpoint: str

    @property
    def dataset_meta(self) -> dict:
        """``classes``, ``attribute_groups`` and ``palette``, as a model's
        ``dataset_meta``."""
        return dict(
            classes=tuple(self.classes),
            attribute_groups=self.attribute_groups,
            palette=self.palette,
        )

    @property
    def attr_outputs(self) -> List[str]:
        """Names of the attribute outputs, in group order."""
        names = self.outputs['attributes']
        return [names[g['name']] for g in self.attribute_groups]

    def to_props(self) -> Dict[str, str]:
        """The ``metadata_props`` pairs (every value a string)."""
        props = {'mmmultilabel_format': FORMAT_VERSION}
        for key in METADATA_KEYS[1:]:
            value = getattr(self, key)
            props[key] = value if key in TEXT_KEYS else json.dumps(value)
        return props

    @classmethod
    def from_props(cls, props: Dict[str, str], filename: str):
        """Decode ``metadata_props``.

        Args:
            props (dict[str, str]): The pairs, as ONNX Runtime's
                ``custom_metadata_map`` gives them.
            filename (str): The ONNX file, for the error message.

        Raises:
            MissingMetadataError: if a key is missing or the layout is of
                another version.
        """
        fix = (
            'export the model with tools/deployment/export_onnx.py, which '
            'writes the class names, attribute groups and post-processing '
            'settings into the file'
        )
        missing = [k for k in METADATA_KEYS if k not in props]
        if missing:
            raise MissingMetadataError(
                f'{filename}: the ONNX model has no mmmultilabel metadata '
                f'(metadata_props lack {missing}); {fix}'
            )
        if props['mmmultilabel_format'] != FORMAT_VERSION:
            raise MissingMetadataError(
                f'{filename}: metadata layout version '
                f'{props["mmmultilabel_format"]!r}, this version reads '
                f'{FORMAT_VERSION!r}; {fix}'
            )
        other = sorted(set(props) - set(METADATA_KEYS))
        if other:
            print_log(
                f'{filename}: metadata_props {other} are not mmmultilabel '
                'metadata (written by another tool?); they are ignored',
                logger='current',
                level=logging.WARNING,
            )
        fields = {}
        for key in METADATA_KEYS[1:]:
            if key in TEXT_KEYS:
                fields[key] = props[key]
                continue
            try:
                fields[key] = json.loads(props[key])
            except json.JSONDecodeError as err:
                raise MissingMetadataError(
                    f'{filename}: metadata_props[{key!r}] is not JSON '
                    f'({err}); {fix}'
                ) from None
        return cls(**fields)
