"""`import mmsiam` changes no other library; mmsiam.runtime applies each
fix of the pinned stack, and every fix is needed: each check below fails in
a fresh interpreter without it and passes with it."""
import subprocess
import sys
import textwrap

import pytest

from mmsiam.runtime import RUNTIME_FIXES, RuntimeFix, setup_runtime

# The objects the runtime fixes replace, as (expression, import) pairs.
WATCHED = textwrap.dedent("""
    import sys
    import mmcv, mmcv.image, mmcv.image.photometric
    import mmpretrain.models.backbones.beit as beit
    import mmpretrain.models.backbones.swin_transformer as swin
    import mmpretrain.models.utils as pt_utils
    import mmpretrain.models.utils.embed as embed
    import lvis.eval
    import torch.serialization
    from mmengine.fileio.backends import backends, prefix_to_backends
    from mmengine.runner.checkpoint import CheckpointLoader

    def watched():
        return dict(
            local_backend=backends['local'],
            prefix_backend=prefix_to_backends.get(''),
            checkpoint_loader=CheckpointLoader._schemes.get(''),
            adjust_hue=(mmcv.adjust_hue, mmcv.image.adjust_hue,
                        mmcv.image.photometric.adjust_hue),
            resize=tuple(m.resize_relative_position_bias_table
                         for m in (beit, swin, pt_utils, embed)),
            safe_globals=len(torch.serialization.get_safe_globals()),
            lvis_numpy=lvis.eval.np,
            meta_path=tuple(sys.meta_path))
""")


def run_python(code):
    """Run ``code`` in a fresh interpreter; its stdout, failing loudly."""
    proc = subprocess.run([sys.executable, '-c', code],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_import_mmsiam_changes_no_other_library():
    out = run_python(WATCHED + textwrap.dedent("""
        import mmdet, mmseg, mmpretrain, mmengine
        before = watched()
        import mmsiam
        from mmsiam.utils import register_all_modules
        register_all_modules()
        after = watched()
        changed = sorted(k for k in before if before[k] != after[k])
        print('changed:', changed)
        import mmsiam.runtime
        fixed = watched()
        print('runtime:', sorted(k for k in before if before[k] != fixed[k]))
    """))
    assert 'changed: []' in out, out
    # ...and importing mmsiam.runtime (what custom_imports names) fixes.
    assert ("runtime: ['adjust_hue', 'checkpoint_loader', 'local_backend', "
            "'lvis_numpy', 'prefix_backend', 'resize', 'safe_globals']"
            in out), out


# One check per fix: code that fails on the unfixed stack.
FAILS_WITHOUT_FIX = {
    'weights-only loading of runner checkpoints': """
        import io, torch
        from mmengine.logging import HistoryBuffer
        buffer = io.BytesIO()
        history = HistoryBuffer()
        history.update(1.0)
        torch.save({'hub': history}, buffer)
        buffer.seek(0)
        torch.load(buffer)  # weights_only by default
    """,
    'atomic checkpoint writes': """
        from mmengine.fileio import get_file_backend
        from mmsiam.checkpoint.atomic_files import AtomicLocalBackend
        assert isinstance(get_file_backend('work_dirs/epoch_1.pth'),
                          AtomicLocalBackend)
    """,
    'checked, weights-only checkpoint reads': """
        import os, tempfile, torch
        from mmengine.runner.checkpoint import CheckpointLoader
        from mmsiam.checkpoint.safe_loading import CorruptCheckpointError
        path = os.path.join(tempfile.mkdtemp(), 'epoch_1.pth')
        torch.save({'w': torch.zeros(1000)}, path)
        with open(path, 'r+b') as f:
            f.truncate(os.path.getsize(path) // 2)
        try:
            CheckpointLoader.load_checkpoint(path)
        except CorruptCheckpointError:
            pass
    """,
    'lvis.eval on numpy 2': """
        import lvis.eval
        lvis.eval.np.float
    """,
    'mmcv adjust_hue on numpy 2': """
        import mmcv, numpy as np
        mmcv.adjust_hue(np.zeros((2, 2, 3), np.uint8), -0.1)
    """,
    'mmpretrain relative position bias resizing on SciPy >= 1.14': """
        import torch
        from mmpretrain.models.backbones import beit
        beit.resize_relative_position_bias_table(5, 9, torch.zeros(25, 2), 2)
    """,
}


def test_every_fix_has_a_check():
    assert sorted(FAILS_WITHOUT_FIX) == sorted(f.name for f in RUNTIME_FIXES)


@pytest.mark.parametrize('name', sorted(FAILS_WITHOUT_FIX))
def test_fix_is_needed_and_works(name):
    code = textwrap.dedent(FAILS_WITHOUT_FIX[name])
    unfixed = subprocess.run([sys.executable, '-c', 'import mmsiam\n' + code],
                             capture_output=True, text=True, timeout=300)
    assert unfixed.returncode != 0, f'{name}: passes without the fix'
    run_python('from mmsiam.runtime import setup_runtime\n' + code)


def test_every_fix_is_in_effect_on_this_stack():
    assert setup_runtime() == [f.name for f in RUNTIME_FIXES]


def test_a_release_after_the_last_broken_one_switches_a_fix_off():
    def fix(package, last_broken, trigger=()):
        return RuntimeFix('x', 'bug', package, last_broken, trigger,
                          lambda: None)

    assert fix('mmengine', '0.10.7').needed()
    assert not fix('mmengine', '0.10.6').needed()  # installed: 0.10.7
    assert not fix('not-installed-anywhere', '9.9').needed()
    assert fix('mmcv', '2.1.0', ('numpy', '2.0')).needed()
    assert not fix('mmcv', '2.1.0', ('numpy', '99.0')).needed()
