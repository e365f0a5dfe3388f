"""mmsiam's registry nodes.

Each node is a child of the matching mmpretrain node (itself a child of
mmengine's root; ``STRATEGIES``, which mmpretrain lacks, is a child of
mmengine's), so under ``default_scope='mmsiam'`` a config can name
mmsiam, mmpretrain and mmengine types unprefixed, and configs of other
scopes (mmdet, mmseg) can reach mmsiam types as ``type='mmsiam.Name'`` after
``custom_imports=dict(imports=['mmsiam'], allow_failed_imports=False)``.

Parents are not imported lazily by mmengine; the ``mmsiam`` sub-packages
named in ``locations`` import the matching mmpretrain sub-packages so that
their types are registered when an mmsiam node is searched (the visualizer
nodes name ``mmpretrain.visualization`` itself).

mmengine resolves a scoped key (``'mmsiam.X'`` built from an mmdet or mmseg
registry) only among the *root's direct children*, while each mmsiam node
hangs below mmpretrain's. :func:`_child` therefore also lists every node
among its root's children under the scope ``mmsiam``: unscoped keys still
fall back through mmpretrain, and scoped keys find mmsiam from any scope
(importing ``mmsiam.models`` etc. lazily, as for any node).
"""
from mmengine import registry as engine_registry
from mmengine.registry import Registry
from mmpretrain import registry as parents

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'STRATEGIES', 'FUNCTIONS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS',
    'TASK_UTILS', 'METRICS', 'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS'
]


def _child(parent: Registry, location: str) -> Registry:
    """The mmsiam node below ``parent``, named like it, importing
    ``location`` to register its types."""
    node = Registry(parent.name, parent=parent, scope='mmsiam',
                    locations=[location])
    root = parent._get_root_registry()
    root._children.setdefault(node.scope, node)
    return node


ENGINE = 'mmsiam.engine'
DATA = 'mmsiam.datasets'
MODEL = 'mmsiam.models'
EVALUATION = 'mmsiam.evaluation'
# mmsiam has no visualizers of its own: its nodes import mmpretrain's.
VISUALIZATION = 'mmpretrain.visualization'

RUNNERS = _child(parents.RUNNERS, ENGINE)
RUNNER_CONSTRUCTORS = _child(parents.RUNNER_CONSTRUCTORS, ENGINE)
LOOPS = _child(parents.LOOPS, ENGINE)
HOOKS = _child(parents.HOOKS, ENGINE)
LOG_PROCESSORS = _child(parents.LOG_PROCESSORS, ENGINE)
OPTIMIZERS = _child(parents.OPTIMIZERS, ENGINE)
OPTIM_WRAPPERS = _child(parents.OPTIM_WRAPPERS, ENGINE)
OPTIM_WRAPPER_CONSTRUCTORS = _child(parents.OPTIM_WRAPPER_CONSTRUCTORS, ENGINE)
PARAM_SCHEDULERS = _child(parents.PARAM_SCHEDULERS, ENGINE)
# mmpretrain has no strategies node: mmsiam's hangs below mmengine's root.
STRATEGIES = _child(engine_registry.STRATEGIES, ENGINE)
# Nor a functions node, where mmengine's FSDP strategy looks up its wrap
# policies under the default scope (a warning when the scope has none).
FUNCTIONS = _child(engine_registry.FUNCTIONS, ENGINE)
DATASETS = _child(parents.DATASETS, DATA)
DATA_SAMPLERS = _child(parents.DATA_SAMPLERS, DATA)
TRANSFORMS = _child(parents.TRANSFORMS, DATA)
MODELS = _child(parents.MODELS, MODEL)
MODEL_WRAPPERS = _child(parents.MODEL_WRAPPERS, MODEL)
WEIGHT_INITIALIZERS = _child(parents.WEIGHT_INITIALIZERS, MODEL)
TASK_UTILS = _child(parents.TASK_UTILS, MODEL)
METRICS = _child(parents.METRICS, EVALUATION)
EVALUATORS = _child(parents.EVALUATORS, EVALUATION)
VISUALIZERS = _child(parents.VISUALIZERS, VISUALIZATION)
VISBACKENDS = _child(parents.VISBACKENDS, VISUALIZATION)
