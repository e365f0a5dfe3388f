"""Checkpoints are written atomically and loaded weights-only through every
load path; hostile, truncated and missing files give errors naming them."""
import os
import pickle
import shutil

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import _load_checkpoint

from helpers import load_tool
from mmsiam.checkpoint.atomic_files import AtomicLocalBackend, atomic_write
from mmsiam.checkpoint.safe_loading import (CorruptCheckpointError,
                                            is_complete_checkpoint,
                                            latest_checkpoint)
from mmsiam.models.utils.pretrained_loading import load_backbone_checkpoint

# conftest's setup_runtime() installed the safe loader and atomic writes.
load_official_checkpoint = load_tool(
    'model_converters/checkpoint_io.py').load_official_checkpoint

from helpers import DEMO_CONFIG, REPO, TINY_DEMO_OPTIONS, run_tool

TRAIN = os.path.join(REPO, 'tools', 'train.py')


class _RunsShell:
    """Pickles to a call of os.system, as a hostile checkpoint would."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _truncate(path, fraction=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])


def test_local_writes_go_through_the_atomic_backend(tmp_path):
    backend = get_file_backend(str(tmp_path / 'x.pth'))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put(b'new', tmp_path / 'sub' / 'x.pth')
    assert (tmp_path / 'sub' / 'x.pth').read_bytes() == b'new'
    backend.put_text('text', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == 'text'


def test_interrupted_write_leaves_the_old_file(tmp_path):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old')
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target) as f:
            f.write(b'half of the new')
            raise KeyboardInterrupt
    assert target.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['epoch_1.pth']


@pytest.mark.parametrize('loader', [
    lambda p: _load_checkpoint(str(p), map_location='cpu'),
    load_official_checkpoint,
    lambda p: load_backbone_checkpoint(torch.nn.Linear(1, 1), str(p)),
], ids=['mmengine(resume,load_from,Pretrained)', 'converters',
        'strict-backbone'])
def test_every_load_path_refuses_a_hostile_pickle(tmp_path, loader):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {}, 'x': _RunsShell(marker)}, path)
    with pytest.raises(
            pickle.UnpicklingError,
            match=r'hostile\.pth: refused to load.*GLOBAL posix\.system'):
        loader(path)
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize('fraction', [0.0, 0.5, 0.99])
def test_truncated_checkpoint_is_detected(demo_run, tmp_path, fraction):
    path = tmp_path / 'epoch_2.pth'
    shutil.copy(demo_run[0] / 'epoch_2.pth', path)
    assert is_complete_checkpoint(path)
    _truncate(path, fraction)
    assert not is_complete_checkpoint(path)
    with pytest.raises(CorruptCheckpointError,
                       match=r'epoch_2\.pth: the checkpoint is truncated'):
        _load_checkpoint(str(path), map_location='cpu')


@pytest.mark.slow
def test_latest_checkpoint(demo_run, tmp_path):
    assert latest_checkpoint(str(tmp_path)) is None  # a new run
    work_dir = tmp_path / 'run'
    shutil.copytree(demo_run[0], work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))
    assert latest_checkpoint(str(work_dir)) == str(work_dir / 'epoch_2.pth')
    _truncate(work_dir / 'epoch_2.pth')
    with pytest.raises(CorruptCheckpointError) as error:
        latest_checkpoint(str(work_dir))
    assert 'epoch_2.pth, which is truncated or corrupt' in str(error.value)
    assert f'newest first: {work_dir / "epoch_1.pth"}' in str(error.value)
    (work_dir / 'last_checkpoint').unlink()
    with pytest.raises(CorruptCheckpointError, match='missing or empty'):
        latest_checkpoint(str(work_dir))


@pytest.mark.slow
def test_resume_refuses_a_truncated_latest_checkpoint(demo_run, tmp_path):
    work_dir = tmp_path / 'run'
    shutil.copytree(demo_run[0], work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))
    _truncate(work_dir / 'epoch_2.pth')
    options = [o for o in TINY_DEMO_OPTIONS if 'max_epochs' not in o]
    proc = run_tool([TRAIN, DEMO_CONFIG, '--work-dir', work_dir, '--resume',
                     '--cfg-options', 'train_cfg.max_epochs=3'] + options,
                    check=False)
    assert proc.returncode != 0
    assert 'epoch_2.pth, which is truncated or corrupt' in proc.stdout
    assert str(work_dir / 'epoch_1.pth') in proc.stdout
    # Nothing was trained or overwritten.
    assert not (work_dir / 'epoch_3.pth').exists()
    assert (work_dir / 'epoch_1.pth').is_file()
