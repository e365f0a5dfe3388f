"""One work dir, one run: a live training holds a lock on its work dir.

Two runs writing into one work dir (a resumed run beside a run that was
believed dead) overwrite each other's checkpoints and logs. The first
process of a run (global rank 0) takes an exclusive ``flock`` on
``<work_dir>/.mmsiam.lock`` and keeps it until it exits; the kernel drops
the lock of a process that dies in any way, ``SIGKILL`` included, so a
stale lock file never blocks a later run. The file holds the holder's PID
and command line for the error a second run gets.
"""
import fcntl
import os
import os.path as osp
import sys

LOCK_NAME = '.mmsiam.lock'
# The open lock file of this process (the lock lives as long as it).
_HELD = {}


class WorkDirInUseError(RuntimeError):
    """Another live run holds the work dir."""


def lock_work_dir(work_dir: str) -> None:
    """Hold ``work_dir``'s lock for the rest of this process, or raise
    :class:`WorkDirInUseError` naming the PID that holds it."""
    work_dir = osp.abspath(work_dir)
    if work_dir in _HELD:
        return
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    handle = open(path, 'a+')
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or 'an unknown process'
        handle.close()
        raise WorkDirInUseError(
            f'work dir {work_dir} is in use by a running training '
            f'({holder}); two runs in one work dir overwrite each other. '
            'Wait for it to end or stop it (kill the PID), or choose '
            'another --work-dir.') from None
    handle.seek(0)
    handle.truncate()
    handle.write(f'PID {os.getpid()}: {" ".join(sys.argv)}\n')
    handle.flush()
    _HELD[work_dir] = handle
