"""Atomic file writes: a file is either its old self or completely new.

A run that is killed (preemption, out of memory, a node failure) while it
writes a checkpoint must not leave a truncated file under the checkpoint's
name. :func:`atomic_write` writes to a temporary file in the same folder,
flushes it to disk and renames it over the target (``os.replace``, atomic on
POSIX); :class:`AtomicLocalBackend` makes mmengine's local file back-end,
which ``Runner.save_checkpoint`` and ``CheckpointHook`` write through, do the
same.
"""
import contextlib
import os
import os.path as osp
import tempfile
from typing import IO, Iterator, Union

from mmengine.fileio.backends import LocalBackend, register_backend

__all__ = ['atomic_write', 'AtomicLocalBackend', 'use_atomic_local_backend']


@contextlib.contextmanager
def atomic_write(path: Union[str, os.PathLike]) -> Iterator[IO[bytes]]:
    """Open a temporary binary file that replaces ``path`` on success.

    The temporary file (``.<name>.<random>.partial`` in ``path``'s folder,
    created if missing) is flushed and fsynced, then renamed to ``path``,
    with the permissions of a file made by ``open()`` (``0o666`` less the
    umask: teammates can read a shared work dir's checkpoints; the
    temporary file itself is private). If the block raises, it is removed
    and ``path`` is left as it was.
    """
    path = osp.abspath(osp.expanduser(os.fspath(path)))
    folder = osp.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.partial')
    try:
        with os.fdopen(fd, 'wb') as f:
            yield f
            f.flush()
            os.fchmod(f.fileno(), 0o666 & ~current_umask())
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def current_umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` whose ``put`` / ``put_text`` are atomic
    (see :func:`atomic_write`); reading is unchanged."""

    def put(self, obj: bytes, filepath) -> None:
        with atomic_write(filepath) as f:
            f.write(obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


def use_atomic_local_backend() -> None:
    """Make :class:`AtomicLocalBackend` mmengine's back-end for local paths
    (``get_file_backend('work_dirs/x.pth')``, ``backend='local'``)."""
    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
