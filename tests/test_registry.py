"""`import mmmultilabel` registers every exported module in mmdet's scope;
so does `import mmmultilabel.inverseform` for its own."""

import inspect

import mmdet.registry as mmdet_registry
import torch
from mmcv.transforms import BaseTransform
from mmdet.models.task_modules.assigners.match_cost import BaseMatchCost
from mmengine.dataset import BaseDataset
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.registry import Registry
from mmengine.visualization import Visualizer

import mmmultilabel
from mmmultilabel import datasets, engine, evaluation, models, visualization

REGISTRIES = [
    obj for obj in vars(mmdet_registry).values() if isinstance(obj, Registry)
]


# Base classes of the components that configs build by ``type=...``.
COMPONENT_BASES = (
    torch.nn.Module,
    BaseDataset,
    BaseTransform,
    BaseMetric,
    Visualizer,
    BaseMatchCost,
    Hook,
)
# The components the package exists for; each must be present.
EXPECTED = {
    'AttrCocoDataset',
    'LoadAttrAnnotations',
    'PackAttrDetInputs',
    'AttrMask2FormerHead',
    'AttrMaskFormerFusionHead',
    'AttrClassificationCost',
    'AttrBinaryCrossEntropyCost',
    'AttrCrossEntropyLoss',
    'AttrBinaryCrossEntropyLoss',
    'AttrCocoMetric',
    'AttrDetLocalVisualizer',
    'AttrGroupsCheckHook',
}
EXPECTED_INVERSEFORM = {
    'InverseFormLoss',
    'InverseFormRegressor',
    'InverseFormPairDataset',
    'InverseFormMetric',
    'BoundaryAttrMask2FormerHead',
}


def _exported_components(
    pkgs=(datasets, engine, models, evaluation, visualization),
):
    for pkg in pkgs:
        for name in getattr(pkg, '__all__', []):
            obj = getattr(pkg, name)
            if inspect.isclass(obj) and issubclass(obj, COMPONENT_BASES):
                yield name, obj


def test_version():
    assert mmmultilabel.__version__.count('.') == 2


def _assert_registered_in_mmdet_scope(components):
    for name, cls in components.items():
        owners = [r for r in REGISTRIES if r.get(name) is cls]
        assert owners, f'{name} is exported but not registered in mmdet'
        assert all(r.scope == 'mmdet' for r in owners)


def test_every_exported_class_is_registered_in_mmdet_scope():
    components = dict(_exported_components())
    assert EXPECTED <= components.keys(), EXPECTED - components.keys()
    assert not components.keys() & EXPECTED_INVERSEFORM
    _assert_registered_in_mmdet_scope(components)


def test_inverseform_classes_are_registered_in_mmdet_scope():
    import mmmultilabel.inverseform as inverseform

    components = dict(_exported_components([inverseform]))
    assert components.keys() == EXPECTED_INVERSEFORM
    _assert_registered_in_mmdet_scope(components)


def test_custom_imports_from_a_config(tmp_path):
    """The way other OpenMMLab configs load the package."""
    from mmengine.config import Config

    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text(
        "custom_imports = dict(imports=['mmmultilabel'], "
        'allow_failed_imports=False)\n'
    )
    cfg = Config.fromfile(str(cfg_file))
    assert cfg.custom_imports['imports'] == ['mmmultilabel']
