"""``import mmmultilabel`` leaves the optional parts unimported (InverseForm
and mmseg, the benchmark protocols, the analysis functions, deployment and
ONNX, the converters), yet every registered type is built by its name, in
scope ``mmdet`` and in scope ``mmmultilabel``; a name a package exports
lazily is the object its module defines."""

import ast
import inspect
import json
import subprocess
import sys
import textwrap
from functools import lru_cache
from pathlib import Path

import pytest

import mmmultilabel
from mmmultilabel import datasets, evaluation
from mmmultilabel.evaluation import attr

PKG = Path(mmmultilabel.__file__).resolve().parent
DATA = Path(__file__).resolve().parent / 'data'

#: Not imported by ``import mmmultilabel`` (module name prefixes).
UNIMPORTED = (
    'mmseg',
    'mmmultilabel.inverseform',
    'mmmultilabel.evaluation.fashionpedia',
    'mmmultilabel.evaluation.paco',
    'mmmultilabel.evaluation.protocols',
    'mmmultilabel.evaluation.attr.analysis',
    'mmmultilabel.deploy',
    'mmmultilabel.apis',
    # the converters
    'mmmultilabel.datasets.labelme',
    'mmmultilabel.datasets.cvat',
    'mmmultilabel.datasets.label_studio',
    'onnx',
    'onnxruntime',
)

#: A config of every type whose module ``import mmmultilabel`` leaves
#: unimported, by the name of its registry in ``mmengine.registry``.
LAZY_CONFIGS = dict(
    PacoMetric=(
        'METRICS',
        dict(type='PacoMetric', ann_file=str(DATA / 'paco' / 'gt.json')),
    ),
    FashionpediaMetric=(
        'METRICS',
        dict(
            type='FashionpediaMetric',
            ann_file=str(DATA / 'formats' / 'fashionpedia.json'),
        ),
    ),
    # not a graph: built, its session refuses the file
    OnnxAttrMask2Former=(
        'MODELS',
        dict(
            type='OnnxAttrMask2Former',
            onnx_file=str(DATA / 'paco' / 'gt.json'),
        ),
    ),
)


@lru_cache(maxsize=None)
def registered_classes():
    """``{name: module}`` of every class outside ``inverseform`` that a
    ``@REGISTRY.register_module()`` decorator registers, read from the
    source."""
    found = {}
    for path in sorted(PKG.rglob('*.py')):
        rel = path.relative_to(PKG.parent).with_suffix('')
        if rel.parts[1] == 'inverseform':
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ClassDef):
                continue
            for dec in node.decorator_list:
                func = dec.func if isinstance(dec, ast.Call) else dec
                if getattr(func, 'attr', None) == 'register_module':
                    found[node.name] = '.'.join(rel.parts)
    return found


CHILD = """
    import json, sys
    import mmengine.registry as root
    from mmengine.registry import DefaultScope

    scope, searched_before, configs = sys.argv[1:]
    if searched_before == 'yes':
        # mmdet's registries searched (their locations imported) before
        # the package is imported
        from mmdet.registry import METRICS, MODELS
        METRICS.get('CocoMetric'), MODELS.get('Mask2Former')
    import mmmultilabel  # noqa: F401
    modules = sorted(sys.modules)
    DefaultScope.get_instance('lazy', scope_name=scope)
    built = {}
    for name, (registry, cfg) in json.loads(configs).items():
        # as the Runner builds: from mmengine's root registry, in the scope
        try:
            built[name] = type(getattr(root, registry).build(cfg)).__module__
        except Exception as e:
            built[name] = f'{type(e).__name__}: {e}'
    print(json.dumps(dict(modules=modules, built=built)))
"""


@pytest.fixture(
    scope='module',
    params=[('mmmultilabel', 'no'), ('mmdet', 'yes')],
    ids=['scope-mmmultilabel', 'scope-mmdet-searched-before'],
)
def child(request):
    """What a fresh process imports with ``import mmmultilabel``, and what
    it builds from :data:`LAZY_CONFIGS` afterwards in the given scope."""
    proc = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(CHILD), *request.param]
        + [json.dumps(LAZY_CONFIGS)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_leaves_the_optional_parts_unimported(child):
    modules = child['modules']
    loaded = [m for m in modules if m.startswith(UNIMPORTED)]
    assert not loaded, loaded
    # what is left unimported is exactly what LAZY_CONFIGS builds
    lazy = {
        name
        for name, module in registered_classes().items()
        if module not in modules
    }
    assert lazy == LAZY_CONFIGS.keys()


def test_lazily_registered_types_build_by_name(child):
    built = child['built']
    modules = registered_classes()
    assert built['PacoMetric'] == modules['PacoMetric']
    assert built['FashionpediaMetric'] == modules['FashionpediaMetric']
    onnx_file = LAZY_CONFIGS['OnnxAttrMask2Former'][1]['onnx_file']
    assert built['OnnxAttrMask2Former'].startswith(
        f'DeployError: {onnx_file}: ONNX Runtime cannot load the file'
    ), built['OnnxAttrMask2Former']


@pytest.mark.parametrize('package', [mmmultilabel, datasets, evaluation, attr])
def test_lazy_names_are_the_objects_their_modules_define(package):
    for name in package.__all__:
        obj = getattr(package, name)
        if inspect.ismodule(obj):
            assert obj.__name__ == f'{package.__name__}.{name}'
        module = getattr(obj, '__module__', None)
        if module is not None and module.startswith('mmmultilabel.'):
            assert getattr(sys.modules[module], name) is obj, name
        assert name in dir(package)
    with pytest.raises(AttributeError, match='has no attribute'):
        package.no_such_name  # noqa: B018


def test_lazy_metric_is_the_registered_class():
    from mmdet.registry import METRICS

    from mmmultilabel.evaluation import PacoMetric

    assert METRICS.get('PacoMetric') is PacoMetric
    assert mmmultilabel.deploy.__name__ == 'mmmultilabel.deploy'
