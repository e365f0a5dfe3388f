"""Compatibility fixes for the OpenMMLab stack on torch 2.14 / numpy 2.

Every fix mmsiam needs for its pinned stack lives here, is applied once when
``mmsiam`` is imported, and is scoped as narrowly as possible:

* **weights_only checkpoints.** torch >= 2.6 loads with ``weights_only=True``
  by default, and mmengine 0.10.7 calls ``torch.load`` without the argument.
  Runner checkpoints hold the message hub's ``HistoryBuffer`` objects (numpy
  arrays inside) and numpy scalars, so resume / ``load_from`` / ``Pretrained``
  would fail. :func:`allow_mmengine_checkpoint_globals` allow-lists exactly
  those types. ``HistoryBuffer`` pickles its statistics methods as
  ``getattr(HistoryBuffer, 'mean')``; allowing the builtin ``getattr`` would
  let a checkpoint reach any attribute of any allowed object (and from there
  ``os.system``), so the pickled name ``builtins.getattr`` is bound to
  :func:`history_buffer_getattr`, which only resolves those methods.
  ``weights_only`` stays on and ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is never
  set.
* **LVIS evaluation on numpy 2.** ``lvis==0.5.3`` (the last release) calls
  ``np.float`` in ``lvis/eval.py``, removed in numpy 1.24. Fixed upstream but
  never released. :func:`patch_lvis_numpy_aliases` gives *only* the module
  ``lvis.eval`` a numpy namespace that still has ``float``; numpy itself is
  not modified. The patch is applied when ``lvis.eval`` is imported, so
  importing mmsiam does not import lvis.
"""
import importlib.abc
import importlib.util
import pickle
import sys
import types

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

__all__ = [
    'allow_mmengine_checkpoint_globals', 'history_buffer_getattr',
    'patch_lvis_numpy_aliases', 'apply_stack_fixes'
]

# Methods HistoryBuffer registers in every instance (``register_statistics``
# adds more at class level, which are allowed too).
_BUILTIN_STATISTICS = {'min', 'max', 'current', 'mean'}


def history_buffer_getattr(obj, name):
    """``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    Bound to the pickled global ``builtins.getattr`` for weights-only loads.
    Raises :class:`pickle.UnpicklingError` for anything else.
    """
    allowed = _BUILTIN_STATISTICS | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); mmsiam only allows '
        'the statistics methods of mmengine.logging.HistoryBuffer. The file '
        'may carry arbitrary code and was refused.')


def _numpy_globals():
    """numpy types that appear in pickled arrays and scalars.

    Registered under numpy 2's module names and numpy 1's (``numpy.core``),
    so checkpoints written with either load.
    """
    multiarray = np._core.multiarray
    entries = [np.ndarray, np.dtype]
    entries += [getattr(np.dtypes, name) for name in np.dtypes.__all__]
    for func in ('_reconstruct', 'scalar'):
        obj = getattr(multiarray, func)
        entries += [(obj, f'numpy._core.multiarray.{func}'),
                    (obj, f'numpy.core.multiarray.{func}')]
    return entries


def allow_mmengine_checkpoint_globals():
    """Allow-list what mmengine runner checkpoints contain for weights_only."""
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (history_buffer_getattr, 'builtins.getattr')] +
        _numpy_globals())


class NumpyWithRemovedAliases(types.ModuleType):
    """numpy plus the alias ``float`` that lvis 0.5.3 still uses."""
    float = float

    def __getattr__(self, name):
        return getattr(np, name)


def _patch_lvis_eval(module):
    if not isinstance(module.np, NumpyWithRemovedAliases):
        module.np = NumpyWithRemovedAliases('numpy')


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Runs ``patch(module)`` right after ``module_name`` is executed."""

    def __init__(self, module_name, patch):
        self.module_name = module_name
        self.patch = patch

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module_name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            self.patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


def patch_lvis_numpy_aliases():
    """Make ``lvis.eval`` work on numpy 2, now or when it is imported."""
    if 'lvis.eval' in sys.modules:
        _patch_lvis_eval(sys.modules['lvis.eval'])
    elif not any(isinstance(f, _PatchAfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchAfterImport('lvis.eval',
                                                  _patch_lvis_eval))


def apply_stack_fixes():
    """Every fix of this module; called once by ``import mmsiam``."""
    allow_mmengine_checkpoint_globals()
    patch_lvis_numpy_aliases()
