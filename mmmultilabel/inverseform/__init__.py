"""InverseForm: a boundary-aware loss and what it needs (docs/inverseform.md).

Not imported by ``import mmmultilabel``; a config loads it with::

    custom_imports = dict(
        imports=['mmmultilabel', 'mmmultilabel.inverseform'],
        allow_failed_imports=False,
    )

Importing it registers its modules into mmdet's registries (scope
``mmdet``), and :class:`InverseFormLoss` also into mmseg's ``MODELS`` when
mmsegmentation is installed. The IF-Net itself, ``InverseFormNet``, is in
:mod:`mmmultilabel.inverseform.net`.
"""

from .dataset import InverseFormPairDataset
from .head import BoundaryAttrMask2FormerHead
from .loss import InverseFormLoss
from .metric import InverseFormMetric
from .regressor import InverseFormRegressor

__all__ = [
    'BoundaryAttrMask2FormerHead',
    'InverseFormLoss',
    'InverseFormMetric',
    'InverseFormPairDataset',
    'InverseFormRegressor',
]
