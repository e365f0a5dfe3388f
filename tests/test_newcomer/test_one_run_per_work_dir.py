"""Newcomer items 1 and 5 (issue #33): killing a run kills all of it, a
live run's work dir is locked, and ``--resume`` with nothing to resume is an
error, not a fresh run."""
import multiprocessing
import os
import signal
import time

import pytest
from mmengine.config import Config

from helpers import (DEMO_CONFIG, DIST_OPTIONS, DIST_TRAIN, living,
                     load_tool, process_tree, resume_after_kill)
from mmsiam.utils import WorkDirInUseError, lock_work_dir

train = load_tool('train.py')


def _hold_lock(work_dir, locked, release):
    lock_work_dir(work_dir)
    locked.set()
    release.wait(30)


def test_a_second_run_into_a_live_work_dir_is_refused(tmp_path):
    """The error names the holder's PID; once it ends the lock is free."""
    context = multiprocessing.get_context('fork')
    locked, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_lock,
                             args=(str(tmp_path), locked, release))
    holder.start()
    try:
        assert locked.wait(30)
        with pytest.raises(WorkDirInUseError,
                           match=f'PID {holder.pid}.*another --work-dir'):
            lock_work_dir(str(tmp_path / '.' / ''))
    finally:
        release.set()
        holder.join(30)
    lock_work_dir(str(tmp_path))  # the holder is gone


def test_resume_with_nothing_to_resume_is_an_error(tmp_path):
    """A mistyped work dir used to start a fresh run ('Auto resumed from the
    latest checkpoint None'); the error names the close work dir that holds
    checkpoints."""
    (tmp_path / 'siameseim_run').mkdir()
    (tmp_path / 'siameseim_run' / 'epoch_1.pth').write_bytes(b'x')
    args = train.parse_args([DEMO_CONFIG, '--resume', '--work-dir',
                             str(tmp_path / 'siameseim_rum')])
    with pytest.raises(FileNotFoundError,
                       match='holds no checkpoint to resume.*siameseim_run'):
        train.merge_args(Config.fromfile(DEMO_CONFIG), args)
    args = train.parse_args([DEMO_CONFIG, '--resume',
                             str(tmp_path / 'nope.pth')])
    with pytest.raises(FileNotFoundError, match='no such checkpoint'):
        train.merge_args(Config.fromfile(DEMO_CONFIG), args)


@pytest.mark.slow
def test_killing_the_launchers_group_kills_every_worker(dist_run, tmp_path):
    """``kill -9 -- -PGID`` of tools/dist_train.sh in epoch 2: within
    seconds no worker (nor data-loader worker) is left, and ``--resume``
    then ends the run exactly as the uninterrupted one."""
    survivors = []

    def kill_group(pid):
        tree = process_tree(pid)
        assert len(tree) > 3, tree  # the launcher, 2 workers, their loaders
        os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while living(tree) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors.extend(living(tree))

    resume_after_kill(DEMO_CONFIG, dist_run[0], tmp_path, DIST_OPTIONS,
                      launcher=[DIST_TRAIN], kill=kill_group)
    assert not survivors
