"""mmsiam's registry nodes.

Each node is a child of the matching mmpretrain node (itself a child of
mmengine's root), so under ``default_scope='mmsiam'`` a config can name
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
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS',
    'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS'
]


def _child(name, parent, location):
    node = Registry(name, parent=parent, scope='mmsiam', locations=[location])
    root = parent._get_root_registry()
    root._children.setdefault(node.scope, node)
    return node


# mmsiam.engine
RUNNERS = _child('runner', mmpretrain_registry.RUNNERS, 'mmsiam.engine')
RUNNER_CONSTRUCTORS = _child('runner constructor',
                             mmpretrain_registry.RUNNER_CONSTRUCTORS,
                             'mmsiam.engine')
LOOPS = _child('loop', mmpretrain_registry.LOOPS, 'mmsiam.engine')
HOOKS = _child('hook', mmpretrain_registry.HOOKS, 'mmsiam.engine')
LOG_PROCESSORS = _child('log processor', mmpretrain_registry.LOG_PROCESSORS,
                        'mmsiam.engine')
OPTIMIZERS = _child('optimizer', mmpretrain_registry.OPTIMIZERS,
                    'mmsiam.engine')
OPTIM_WRAPPERS = _child('optim_wrapper', mmpretrain_registry.OPTIM_WRAPPERS,
                        'mmsiam.engine')
OPTIM_WRAPPER_CONSTRUCTORS = _child(
    'optimizer wrapper constructor',
    mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS, 'mmsiam.engine')
PARAM_SCHEDULERS = _child('parameter scheduler',
                          mmpretrain_registry.PARAM_SCHEDULERS,
                          'mmsiam.engine')

# mmsiam.datasets
DATASETS = _child('dataset', mmpretrain_registry.DATASETS, 'mmsiam.datasets')
DATA_SAMPLERS = _child('data sampler', mmpretrain_registry.DATA_SAMPLERS,
                       'mmsiam.datasets')
TRANSFORMS = _child('transform', mmpretrain_registry.TRANSFORMS,
                    'mmsiam.datasets')

# mmsiam.models
MODELS = _child('model', mmpretrain_registry.MODELS, 'mmsiam.models')
MODEL_WRAPPERS = _child('model_wrapper', mmpretrain_registry.MODEL_WRAPPERS,
                        'mmsiam.models')
WEIGHT_INITIALIZERS = _child('weight initializer',
                             mmpretrain_registry.WEIGHT_INITIALIZERS,
                             'mmsiam.models')
TASK_UTILS = _child('task util', mmpretrain_registry.TASK_UTILS,
                    'mmsiam.models')

# mmsiam.evaluation
METRICS = _child('metric', mmpretrain_registry.METRICS, 'mmsiam.evaluation')
EVALUATORS = _child('evaluator', mmpretrain_registry.EVALUATORS,
                    'mmsiam.evaluation')

# mmsiam has no visualizers of its own: its nodes import mmpretrain's.
VISUALIZERS = _child('visualizer', mmpretrain_registry.VISUALIZERS,
                     'mmpretrain.visualization')
VISBACKENDS = _child('vis_backend', mmpretrain_registry.VISBACKENDS,
                     'mmpretrain.visualization')
