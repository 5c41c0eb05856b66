"""Names of a package that are imported when first used (PEP 562).

A package ``__init__`` lists the names it exports but does not import::

    __getattr__, __dir__ = lazy_exports(
        __name__, globals(), {'.paco': ['PacoMetric', 'evaluate_paco']})

``from package import PacoMetric`` and ``package.PacoMetric`` then import
``package.paco`` at that moment; a module whose names nobody uses is never
imported.
"""

from importlib import import_module
from typing import Callable, Dict, List, Tuple


def lazy_exports(
    package: str, namespace: dict, exports: Dict[str, List[str]]
) -> Tuple[Callable[[str], object], Callable[[], List[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of a package whose names
    ``exports`` are imported at first use.

    Args:
        package (str): The package's ``__name__``.
        namespace (dict): The package's ``globals()``; a name imported once
            is stored there, so the next use is an ordinary lookup.
        exports (dict): ``{module: [name, ...]}``: the names each module
            (relative to ``package``, e.g. ``'.paco'``) provides. A name that
            is the module's own last component (``{'.deploy': ['deploy']}``)
            is the module itself.

    Returns:
        tuple: ``(__getattr__, __dir__)`` for the package's namespace.
    """
    module_of = {name: mod for mod, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(
                f'module {package!r} has no attribute {name!r}'
            )
        imported = import_module(module, package)
        value = (
            imported
            if module.rsplit('.', 1)[-1] == name
            else getattr(imported, name)
        )
        namespace[name] = value
        return value

    def __dir__() -> List[str]:
        return sorted(set(namespace) | set(module_of))

    return __getattr__, __dir__
