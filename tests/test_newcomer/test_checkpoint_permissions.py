"""Newcomer item 4 (issue #33): checkpoints and exports follow the umask,
as files made by ``open()`` do, so teammates can read a shared work dir
(the atomic writes used to leave them ``-rw-------``)."""
import os
import stat

import pytest

from mmsiam.checkpoint.atomic_files import atomic_write


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize('umask', [0o022, 0o002, 0o077])
def test_atomic_writes_get_the_mode_of_open(tmp_path, umask):
    old = os.umask(umask)
    try:
        with atomic_write(tmp_path / 'epoch_1.pth') as f:
            f.write(b'weights')
        with open(tmp_path / 'plain', 'wb') as f:
            f.write(b'weights')
    finally:
        os.umask(old)
    assert mode(tmp_path / 'epoch_1.pth') == mode(tmp_path / 'plain') == (
        0o666 & ~umask)


@pytest.mark.slow
def test_a_runs_checkpoints_and_export_are_readable_by_the_group(
        demo_run, backbone_checkpoint):
    umask = os.umask(0o022)
    os.umask(umask)
    expected = 0o666 & ~umask
    files = sorted(demo_run[0].glob('*.pth')) + [backbone_checkpoint]
    assert len(files) == 3
    assert {f.name: mode(f) for f in files} == {f.name: expected
                                                for f in files}
