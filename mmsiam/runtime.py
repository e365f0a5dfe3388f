"""The runtime fixes mmsiam needs on its pinned stack, applied on request.

``import mmsiam`` only registers components; it changes no other library.
The fixes below change mmengine, mmcv, mmpretrain, lvis and torch's
weights-only allow-list, so they are applied only where asked for:

* :func:`setup_runtime` (``tools/train.py``, ``tools/test.py`` and the tools
  that read or write checkpoints call it first);
* ``import mmsiam.runtime``, which calls it: mmdet / mmseg / mmpretrain
  configs name it in
  ``custom_imports=dict(imports=['mmsiam', 'mmsiam.runtime'])``.

Each fix names the upstream bug (the docstrings of the functions it calls
say more) and carries a version guard: it is applied only while the
upstream package is at or below the last release known to have the bug
(and the condition that triggers it holds), so a fixed release switches it
off. ``tests/test_runtime.py`` shows every failure without the fix.
``docs/faq.md`` lists them.
"""
from importlib import metadata
from typing import Callable, List, NamedTuple, Optional, Tuple

from mmengine.utils import digit_version

from .checkpoint.atomic_files import use_atomic_local_backend
from .checkpoint.safe_loading import use_safe_local_checkpoint_loader
from .stack_fixes import (allow_mmengine_checkpoint_globals,
                          patch_lvis_numpy_aliases, patch_mmcv_adjust_hue,
                          patch_mmpretrain_rel_pos_resize)

__all__ = ['RuntimeFix', 'RUNTIME_FIXES', 'installed_version',
           'setup_runtime']


def installed_version(distribution: str) -> Optional[str]:
    """The installed version of a distribution (``'mmcv'``), or None."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


class RuntimeFix(NamedTuple):
    """One fix of an upstream bug.

    Attributes:
        name (str): What it fixes, e.g. ``'mmcv adjust_hue on numpy 2'``.
        bug (str): The upstream bug, in one sentence.
        package (str): The distribution with the bug, e.g. ``'mmcv'``.
        last_broken (str): The last release of ``package`` known to have
            it; a later release switches the fix off.
        trigger (tuple): ``(distribution, first_version)`` whose release
            at or after ``first_version`` exposes the bug (e.g. numpy 2),
            or ``()`` when the bug needs nothing else.
        apply (callable): Applies the fix; safe to call twice.
    """
    name: str
    bug: str
    package: str
    last_broken: str
    trigger: Tuple[str, ...]
    apply: Callable[[], None]

    def needed(self) -> bool:
        """Whether the installed versions still have the bug."""
        version = installed_version(self.package)
        if version is None or (digit_version(version) >
                               digit_version(self.last_broken)):
            return False
        if not self.trigger:
            return True
        distribution, first = self.trigger
        trigger_version = installed_version(distribution)
        return trigger_version is not None and (
            digit_version(trigger_version) >= digit_version(first))


RUNTIME_FIXES = (
    RuntimeFix(
        'weights-only loading of runner checkpoints',
        'torch >= 2.6 loads weights_only by default and mmengine 0.10.7 '
        'checkpoints hold HistoryBuffer and numpy objects, so resume and '
        'load_from fail with UnpicklingError',
        'mmengine', '0.10.7', ('torch', '2.6'),
        allow_mmengine_checkpoint_globals),
    RuntimeFix(
        'atomic checkpoint writes',
        "mmengine 0.10.7's LocalBackend writes a checkpoint in place, so a "
        'run killed while saving leaves a truncated file under its name',
        'mmengine', '0.10.7', (), use_atomic_local_backend),
    RuntimeFix(
        'checked, weights-only checkpoint reads',
        "mmengine 0.10.7's local checkpoint loader calls torch.load without "
        'weights_only and reports a truncated file as an unrelated '
        'RuntimeError', 'mmengine', '0.10.7', (),
        use_safe_local_checkpoint_loader),
    RuntimeFix(
        'lvis.eval on numpy 2',
        'lvis 0.5.3 (the last release) uses np.float, removed in numpy '
        '1.24', 'lvis', '0.5.3', ('numpy', '1.24'),
        patch_lvis_numpy_aliases),
    RuntimeFix(
        'mmcv adjust_hue on numpy 2',
        "mmcv 2.1.0's adjust_hue computes np.uint8 of a negative hue shift, "
        'an OverflowError on numpy 2', 'mmcv', '2.1.0', ('numpy', '2.0'),
        patch_mmcv_adjust_hue),
    RuntimeFix(
        'mmpretrain relative position bias resizing on SciPy >= 1.14',
        'mmpretrain 1.2.0 resizes BEiT relative position bias tables with '
        'scipy.interpolate.interp2d, removed in SciPy 1.14',
        'mmpretrain', '1.2.0', ('scipy', '1.14'),
        patch_mmpretrain_rel_pos_resize),
)


# The names of the fixes applied by the first setup_runtime() call.
_applied: Optional[List[str]] = None


def setup_runtime() -> List[str]:
    """Apply every fix of :data:`RUNTIME_FIXES` that the installed versions
    need, once per process: a later call (the tools call it after importing
    this module, which already did) changes nothing and checks no version
    again.

    Returns:
        list[str]: The names of the fixes in effect.
    """
    global _applied
    if _applied is None:
        needed = [fix for fix in RUNTIME_FIXES if fix.needed()]
        for fix in needed:
            fix.apply()
        _applied = [fix.name for fix in needed]
    return list(_applied)


setup_runtime()
