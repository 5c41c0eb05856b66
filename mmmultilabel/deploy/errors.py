"""Errors of exporting a model and of running an exported one.

:class:`DeployError` catches them all; the subclasses tell the cases apart.
Every message names the file concerned and what would be right.
"""

from mmmultilabel.utils.errors import InputError


class DeployError(InputError):
    """A model that cannot be exported, or an exported model that cannot
    run on the given input."""


class UnsupportedModelError(DeployError):
    """A config or checkpoint of an architecture the exporter does not
    handle (anything but Mask2Former with the attribute heads)."""


class MissingMetadataError(DeployError):
    """An ONNX file without the metadata that post-processing needs."""


class InputMismatchError(DeployError):
    """An input the exported graph cannot take: wrong channel count, or a
    size other than the one a static graph was exported for."""
