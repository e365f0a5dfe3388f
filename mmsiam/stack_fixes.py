"""Compatibility fixes for the OpenMMLab stack on torch 2.14 / numpy 2.

The fixes mmsiam needs for its pinned stack, each scoped as narrowly as
possible. Nothing here runs on import: :mod:`mmsiam.runtime` applies them
(with a version guard each) when a tool or a config asks for it.

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
* **Hue jitter on numpy 2.** mmcv 2.1.0's ``adjust_hue`` shifts the hue
  channel by ``np.uint8(hue_factor * 255)``, which numpy 2 refuses for a
  negative factor (``OverflowError``), so every ``ColorJitter(hue=...)``
  crashes about half the time. :func:`adjust_hue` does the same shift with
  the numpy-1 wrap-around (``-14 -> 242``) and replaces ``mmcv.adjust_hue``
  (and its aliases in ``mmcv.image``); results on numpy 1 are unchanged.
* **Relative position bias resizing on SciPy >= 1.14.** mmpretrain 1.2.0
  resizes BEiT relative position bias tables (a 224-pixel pretraining
  checkpoint in a 512-pixel segmentation model) with
  ``scipy.interpolate.interp2d``, which SciPy 1.14 removed (it raises
  ``NotImplementedError``). :func:`resize_relative_position_bias_table`
  computes the same geometric-progression grid and the same cubic
  interpolating spline (FITPACK ``regrid``, ``s=0``) with
  ``RectBivariateSpline``, and replaces mmpretrain's function where its
  BEiT backbone looks it up.
"""
import importlib.abc
import importlib.util
import pickle
import sys
import types

import cv2

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from PIL import Image

__all__ = [
    'allow_mmengine_checkpoint_globals', 'history_buffer_getattr',
    'patch_lvis_numpy_aliases', 'adjust_hue', 'patch_mmcv_adjust_hue',
    'resize_relative_position_bias_table',
    'patch_mmpretrain_rel_pos_resize'
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


def _hue_shift(hue_factor: float) -> np.uint8:
    """mmcv's hue shift: ``int(hue_factor * 255) mod 256`` as uint8."""
    return np.uint8(int(hue_factor * 255) % 256)


def shift_pil_hue(image: Image.Image, hue_factor: float) -> Image.Image:
    """The hue of an RGB PIL image shifted as mmcv's pillow backend does
    (HSV with hue in 0-255, ``+ int(hue_factor * 255)`` wrapping)."""
    hue, sat, val = image.convert('HSV').split()
    hue = Image.fromarray(
        np.asarray(hue, dtype=np.uint8) + _hue_shift(hue_factor), 'L')
    return Image.merge('HSV', (hue, sat, val)).convert('RGB')


def adjust_hue(img: np.ndarray, hue_factor: float, backend=None):
    """``mmcv.adjust_hue`` that also works on numpy 2.

    Shifts the hue channel (HSV, full 0-255 range) of a BGR image by
    ``int(hue_factor * 255) mod 256``.

    Args:
        img (np.ndarray): ``(H, W, 3)`` BGR image (uint8 for 'pillow').
        hue_factor (float): In [-0.5, 0.5].
        backend (str, optional): 'cv2' or 'pillow'; None uses mmcv's
            ``imread_backend``.
    """
    import mmcv.image.io
    backend = backend or mmcv.image.io.imread_backend
    if backend not in ('cv2', 'pillow'):
        raise ValueError(f'backend: {backend} is not supported. Supported '
                         "backends are 'cv2', 'pillow'")
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f'hue_factor:{hue_factor} is not in [-0.5, 0.5].')
    if not (isinstance(img, np.ndarray) and img.ndim in (2, 3)):
        raise TypeError('img should be ndarray with dim=[2 or 3].')
    if backend == 'pillow':
        if img.dtype != np.uint8:
            raise TypeError('Pillow backend only support uint8 type')
        rgb = shift_pil_hue(Image.fromarray(img[..., ::-1], mode='RGB'),
                            hue_factor)
        return np.asarray(rgb, dtype=img.dtype)[..., ::-1]
    hsv = cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_BGR2HSV_FULL)
    hsv[..., 0] += _hue_shift(hue_factor)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL).astype(img.dtype)


def patch_mmcv_adjust_hue():
    """Bind :func:`adjust_hue` to every name mmcv exports it under."""
    import mmcv
    import mmcv.image
    import mmcv.image.photometric
    for module in (mmcv, mmcv.image, mmcv.image.photometric):
        module.adjust_hue = adjust_hue


def _geometric_offsets(src_size: int, dst_size: int) -> np.ndarray:
    """BEiT's source sample positions: offsets ``1, 1 + q, 1 + q + q^2, ...``
    on both sides of 0, ``q`` chosen by bisection so that the outermost of
    the ``src_size // 2`` offsets reaches about ``dst_size // 2``."""
    def reach(q):
        return (1.0 - q**(src_size // 2)) / (1.0 - q)

    left, right = 1.01, 1.5
    while right - left > 1e-6:
        q = (left + right) / 2.0
        if reach(q) > dst_size // 2:
            right = q
        else:
            left = q
    offsets, current = [], 1
    for i in range(src_size // 2):
        offsets.append(current)
        current += q**(i + 1)
    return np.array([-d for d in reversed(offsets)] + [0] + offsets)


def resize_relative_position_bias_table(src_shape: int, dst_shape: int,
                                        table: torch.Tensor,
                                        num_head: int) -> torch.Tensor:
    """mmpretrain's ``resize_relative_position_bias_table`` without
    ``interp2d``.

    Args:
        src_shape (int): Side of the source table grid (``2 G - 1``).
        dst_shape (int): Side of the resized grid.
        table (Tensor): ``(src_shape ** 2, num_head)`` (extra cls rows
            removed).
        num_head (int): Heads.

    Returns:
        Tensor: ``(dst_shape ** 2, num_head)``.
    """
    from scipy.interpolate import RectBivariateSpline
    source = _geometric_offsets(src_shape, dst_shape)
    half = dst_shape // 2.0
    target = np.arange(-half, half + 0.1, 1.0)
    columns = []
    for head in range(num_head):
        values = table[:, head].view(src_shape, src_shape).float().numpy()
        # interp2d(x, y, z)(dx, dy) == RectBivariateSpline(y, x, z)(dy, dx)
        spline = RectBivariateSpline(source, source, values, kx=3, ky=3, s=0)
        columns.append(torch.from_numpy(spline(target, target)).float()
                       .contiguous().view(-1, 1).to(table.device))
    return torch.cat(columns, dim=-1)


def patch_mmpretrain_rel_pos_resize():
    """Bind :func:`resize_relative_position_bias_table` where mmpretrain's
    BEiT and Swin code and its utilities look it up."""
    import mmpretrain.models.backbones.beit
    import mmpretrain.models.backbones.swin_transformer
    import mmpretrain.models.utils
    import mmpretrain.models.utils.embed
    for module in (mmpretrain.models.backbones.beit,
                   mmpretrain.models.backbones.swin_transformer,
                   mmpretrain.models.utils, mmpretrain.models.utils.embed):
        module.resize_relative_position_bias_table = \
            resize_relative_position_bias_table

