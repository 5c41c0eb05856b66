"""The registries of scope ``mmmultilabel``, and the modules every
registry imports when it is first searched.

The package's modules register into mmdet's registries (scope ``mmdet``),
so configs with ``default_scope = 'mmdet'`` build them by name. The
registries below are children of mmdet's, of scope ``mmmultilabel``: with
``default_scope = 'mmmultilabel'`` (or ``type='mmmultilabel.PacoMetric'``)
a name is searched here, then in mmdet's registry.

``import mmmultilabel`` does not import the modules in
:data:`LAZY_LOCATIONS` (the benchmark protocols' metrics, the ONNX Runtime
model): they are mmengine import locations (``Registry(...,
locations=[...])``) of both the registry here and mmdet's, so the first
search of that registry in either scope (``METRICS.build(dict(
type='PacoMetric', ...))``) imports them and finds their names.
"""

from mmdet import registry as mmdet_registry
from mmengine.registry import Registry

#: Modules imported when the mmdet registry of this name is first
#: searched, by registry name (``Registry.name``).
LAZY_LOCATIONS = dict(
    metric=[
        'mmmultilabel.evaluation.fashionpedia.fashionpedia_metric',
        'mmmultilabel.evaluation.paco.paco_metric',
    ],
    model=['mmmultilabel.deploy.ort_model'],
)


def _child(parent: Registry) -> Registry:
    """A registry of scope ``mmmultilabel`` under mmdet's ``parent``; the
    lazily registered modules become import locations of both."""
    locations = LAZY_LOCATIONS.get(parent.name, [])
    missing = [loc for loc in locations if loc not in parent._locations]
    if missing:
        # a new list: mmengine's default ``locations`` list is shared
        parent._locations = parent._locations + missing
        # searched before this import: import the locations again (mmdet's
        # are in ``sys.modules`` already)
        parent._imported = False
    return Registry(
        parent.name, parent=parent, scope='mmmultilabel', locations=locations
    )


RUNNERS = _child(mmdet_registry.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmdet_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmdet_registry.LOOPS)
HOOKS = _child(mmdet_registry.HOOKS)
DATASETS = _child(mmdet_registry.DATASETS)
DATA_SAMPLERS = _child(mmdet_registry.DATA_SAMPLERS)
TRANSFORMS = _child(mmdet_registry.TRANSFORMS)
MODELS = _child(mmdet_registry.MODELS)
MODEL_WRAPPERS = _child(mmdet_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmdet_registry.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(mmdet_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmdet_registry.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmdet_registry.PARAM_SCHEDULERS)
METRICS = _child(mmdet_registry.METRICS)
EVALUATOR = _child(mmdet_registry.EVALUATOR)
TASK_UTILS = _child(mmdet_registry.TASK_UTILS)
VISUALIZERS = _child(mmdet_registry.VISUALIZERS)
VISBACKENDS = _child(mmdet_registry.VISBACKENDS)
LOG_PROCESSORS = _child(mmdet_registry.LOG_PROCESSORS)
