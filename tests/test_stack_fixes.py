"""The stack fixes (:mod:`mmsiam.stack_fixes`) without and with the fix:
weights-only checkpoint globals, lvis on numpy 2, mmcv hue jitter, BEiT
relative position bias resizing."""
import os
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint


class _RunsShell:
    """Pickles to a call of os.system, as a hostile checkpoint would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


class _ReachesInit:
    """Pickles to getattr(HistoryBuffer, '__init__'): the first step of
    walking from an allowed class to arbitrary code."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


@pytest.mark.slow
def test_runner_checkpoint_loads_weights_only(demo_run):
    work_dir, _ = demo_run
    path = work_dir / 'epoch_2.pth'
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    assert {'meta', 'state_dict', 'message_hub', 'optimizer'} <= set(ckpt)
    loss = ckpt['message_hub']['log_scalars']['train/loss']
    assert isinstance(loss, HistoryBuffer) and len(loss.data[0]) == 8
    # mmengine's own loader (used by resume, load_from and Pretrained).
    via_mmengine = _load_checkpoint(str(path), map_location='cpu')
    assert via_mmengine['meta']['epoch'] == 2


def test_hostile_pickle_is_refused(tmp_path):
    # mmengine calls torch.load without weights_only: the default must
    # stay weights_only=True.
    assert 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
    marker = tmp_path / 'pwned'
    path = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {}, 'x': _RunsShell(marker)}, path)
    with pytest.raises(pickle.UnpicklingError, match='os.system|posix'):
        _load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    path = tmp_path / 'walks.pth'
    torch.save({'x': _ReachesInit()}, path)
    with pytest.raises(pickle.UnpicklingError,
                       match=r"getattr\(.*HistoryBuffer.*'__init__'\)"):
        torch.load(path, weights_only=True)
    buffer = HistoryBuffer()
    buffer.update(3.0)
    torch.save({'b': buffer}, tmp_path / 'ok.pth')
    loaded = torch.load(tmp_path / 'ok.pth', weights_only=True)['b']
    assert loaded.mean() == 3.0


def test_lvis_eval_gets_numpy_aliases_only_there():
    import numpy as np
    import lvis.eval
    assert lvis.eval.np.float is float
    assert lvis.eval.np.cumsum is np.cumsum
    assert not hasattr(np, 'float')  # numpy itself is untouched


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_adjust_hue_takes_negative_factors(backend):
    import cv2
    import mmcv
    import numpy as np
    from mmsiam.stack_fixes import adjust_hue
    assert mmcv.adjust_hue is adjust_hue  # patched at import
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    if backend == 'cv2':
        # mmcv 2.1.0's formula: hue + uint8(int(f * 255)), wrapping.
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
        for factor, shift in ((0.1, 25), (0.5, 127), (-0.056, 242)):
            expected = hsv.copy()
            expected[..., 0] += np.uint8(shift)
            assert np.array_equal(
                adjust_hue(img, factor, backend),
                cv2.cvtColor(expected, cv2.COLOR_HSV2BGR_FULL))
    shifted = adjust_hue(img, -0.2, backend)
    back = adjust_hue(shifted, 0.2, backend)
    assert np.abs(back.astype(int) - img.astype(int)).mean() < 8
    with pytest.raises(ValueError, match='hue_factor'):
        adjust_hue(img, 0.7, backend)


def test_rel_pos_table_resize_without_interp2d():
    """A cubic interpolating spline through BEiT's geometric grid: the table
    keeps its value at offset 0 and +-1, and reproduces linear tables."""
    import mmpretrain.models.backbones.beit as beit

    from mmsiam.stack_fixes import resize_relative_position_bias_table
    assert beit.resize_relative_position_bias_table is \
        resize_relative_position_bias_table
    src, dst = 15, 31  # an 8x8 patch grid resized to 16x16
    rows, cols = torch.meshgrid(torch.arange(src) - 7.,
                                torch.arange(src) - 7., indexing='ij')
    torch.manual_seed(0)
    table = torch.stack([torch.randn(src, src), 2 * rows - 3 * cols + 1,
                         torch.full((src, src), 0.25)], -1).view(-1, 3)
    out = resize_relative_position_bias_table(src, dst, table, 3)
    assert out.shape == (dst * dst, 3)
    grid = out.view(dst, dst, 3)
    centre, source_centre = dst // 2, src // 2
    original = table.view(src, src, 3)
    for dr, dc in [(0, 0), (1, 0), (0, -1), (-1, 1)]:
        assert torch.allclose(grid[centre + dr, centre + dc],
                              original[source_centre + dr, source_centre + dc],
                              atol=1e-5)
    # Linear in the (geometric) source coordinates -> not linear in the
    # target ones, but constant stays constant and the sign pattern of a
    # linear ramp is kept.
    assert torch.allclose(grid[..., 2], torch.tensor(0.25))
    assert torch.all(grid[centre, centre + 1:, 1] < grid[centre, centre, 1])
