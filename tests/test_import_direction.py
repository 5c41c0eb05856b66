"""Modules import downward only.

Layers of the package: ``utils`` <- ``datasets``, ``models``, ``engine``
<- ``evaluation``, ``visualization``, ``deploy`` <- ``apis`` <-
``inverseform``. InverseForm sits on top: it may import the core, and no
module outside ``mmmultilabel/inverseform/`` imports it (``import
mmmultilabel`` does not load it; its configs do, by ``custom_imports``). Inside
``datasets`` the data modules form a one-way stack: the attribute layout
(``utils``) <- completion / known fields <- ``formats`` (the readers of the
foreign forms) <- ``validation`` <- ``loader`` <- the data set and the
converters. Inside ``evaluation`` the shared modules (matching,
accumulation, ground truth and results reading, result forms, the metric
base, which reads ground truth) import no protocol; each protocol package
(``attr``, ``fashionpedia``, ``paco``) imports the shared modules only,
never another protocol; ``protocols`` (the dispatch by name) and the
package ``__init__`` sit on top. Every import counts, including those
inside functions and ``importlib.import_module`` / ``__import__`` of a
literal name.
"""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / 'mmmultilabel'

LAYERS = dict(
    utils=0,
    datasets=1,
    models=1,
    engine=1,
    evaluation=2,
    visualization=2,
    deploy=2,
    apis=3,
    inverseform=4,
)
DATA_STACK = dict(
    completion=0,
    known_fields=1,
    formats=2,
    validation=3,
    loader=4,
    attr_coco=5,
    labelme=5,
)


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix('')
    parts = list(rel.parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def _literal_import(node: ast.Call):
    """The literal module name of ``importlib.import_module('...')`` or
    ``__import__('...')``, else None."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else None
    if isinstance(func, ast.Name):
        name = func.id
    if name not in ('import_module', '__import__') or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    return None


def _imports(path: Path):
    """Absolute names of the mmmultilabel modules ``path`` imports."""
    return _imports_of(path, path.read_text())


def _imports_of(path: Path, source: str):
    """Line and absolute name of each mmmultilabel module that ``source``
    imports, read as the module at ``path``."""
    name = _module_name(path)
    package = name if path.name == '__init__.py' else name.rsplit('.', 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            literal = _literal_import(node)
            targets = [literal] if literal else []
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[: len(base) - node.level + 1]
                mod = '.'.join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ''
            targets = [mod] + [f'{mod}.{a.name}' for a in node.names]
        else:
            continue
        for target in targets:
            if target.startswith('mmmultilabel.'):
                yield node.lineno, target


def _files():
    return sorted(p for p in PKG.rglob('*.py'))


def test_layers_import_downward():
    wrong = []
    for path in _files():
        parts = _module_name(path).split('.')
        if len(parts) < 2 or parts[1] not in LAYERS:
            continue
        own = LAYERS[parts[1]]
        for line, target in _imports(path):
            layer = target.split('.')[1]
            if layer in LAYERS and layer != parts[1] and LAYERS[layer] >= own:
                wrong.append(
                    f'{path.relative_to(PKG)}:{line} imports {target}'
                )
    assert not wrong, '\n'.join(wrong)


def test_data_modules_form_a_one_way_stack():
    wrong = []
    for path in sorted((PKG / 'datasets').glob('*.py')):
        own = DATA_STACK.get(path.stem)
        if own is None:
            continue
        for line, target in _imports(path):
            parts = target.split('.')
            if parts[1] != 'datasets' or len(parts) < 3:
                continue
            rank = DATA_STACK.get(parts[2])
            if rank is not None and rank >= own and parts[2] != path.stem:
                wrong.append(f'datasets/{path.name}:{line} imports {target}')
    assert not wrong, '\n'.join(wrong)


#: Inside ``evaluation``: 0-1 shared, 2 a protocol package, 3 on top.
EVAL_LAYERS = dict(
    matching=0,
    accumulate=0,
    results_io=0,
    result_forms=0,
    base_metric=1,
    attr=2,
    fashionpedia=2,
    paco=2,
    protocols=3,
)


def test_evaluation_protocols_share_and_stay_apart():
    wrong = []
    for path in sorted((PKG / 'evaluation').rglob('*.py')):
        parts = _module_name(path).split('.')
        if len(parts) < 3:
            continue  # the package __init__ re-exports everything
        own, rank = parts[2], EVAL_LAYERS.get(parts[2])
        assert rank is not None, f'{path}: not in EVAL_LAYERS'
        for line, target in _imports(path):
            names = target.split('.')
            if names[1] != 'evaluation' or len(names) < 3:
                continue
            other = EVAL_LAYERS.get(names[2])
            if other is not None and names[2] != own and other >= rank:
                wrong.append(
                    f'{path.relative_to(PKG)}:{line} imports {target}'
                )
    assert not wrong, '\n'.join(wrong)


def test_nothing_outside_inverseform_imports_it():
    wrong = []
    for path in _files():
        parts = _module_name(path).split('.')
        if parts[1:2] == ['inverseform']:
            continue
        for line, target in _imports(path):
            if target.split('.')[1] == 'inverseform':
                wrong.append(
                    f'{path.relative_to(PKG)}:{line} imports {target}'
                )
    assert not wrong, '\n'.join(wrong)


def test_the_import_finder_sees_every_form_of_import():
    """What the tests above rely on: each way of naming the subpackage is
    found, in a function body too."""
    path = PKG / 'models' / 'probe.py'
    source = (
        'import mmmultilabel.inverseform\n'
        'from mmmultilabel import inverseform\n'
        'from .. import inverseform\n'
        'from ..inverseform.loss import InverseFormLoss\n'
        'def f():\n'
        '    import importlib\n'
        "    importlib.import_module('mmmultilabel.inverseform')\n"
        "    __import__('mmmultilabel.inverseform.net')\n"
    )
    found = {
        line
        for line, target in _imports_of(path, source)
        if target.split('.')[1] == 'inverseform'
    }
    assert found == {1, 2, 3, 4, 7, 8}


@pytest.mark.parametrize('layer', ['utils'])
def test_lowest_layer_imports_nothing_above(layer):
    for path in (PKG / layer).rglob('*.py'):
        for line, target in _imports(path):
            assert (
                target.split('.')[1] == layer
            ), f'{path.relative_to(PKG)}:{line} imports {target}'
