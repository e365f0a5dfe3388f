"""Loading checkpoints safely, with errors that name the file.

Every local load in mmsiam goes through :func:`load_checkpoint_file`:
mmengine's resume, ``load_from`` and ``Pretrained`` initialiser (after
:func:`use_safe_local_checkpoint_loader` replaces mmengine's local loader),
the strict backbone loaders and the converters. It passes
``weights_only=True`` explicitly, so only tensors, containers and the types
on the allow-list (:mod:`mmsiam.stack_fixes`, plus a caller's
``extra_globals``) can be unpickled; a file that asks for anything else is
refused before any of it runs. A truncated or corrupt file raises
:class:`CorruptCheckpointError` instead of a zip-reader message.
"""
import glob
import os.path as osp
import pickle
import zipfile
from typing import Optional, Sequence

import torch
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = [
    'CorruptCheckpointError', 'load_checkpoint_file', 'is_complete_checkpoint',
    'use_safe_local_checkpoint_loader', 'read_last_checkpoint',
    'latest_checkpoint'
]


class CorruptCheckpointError(RuntimeError):
    """A checkpoint file is truncated or otherwise unreadable."""


def is_complete_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete torch zip archive (its central
    directory, written last, is present and lists ``data.pkl``).

    Cheap: only the end of the file is read. Files in torch's legacy
    (pre-1.6, non-zip) format are not checked here and count as complete.
    """
    with open(path, 'rb') as f:
        if f.read(4) != b'PK\x03\x04':
            return osp.getsize(path) > 0
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith('/data.pkl')
                       for name in archive.namelist())
    except zipfile.BadZipFile:
        return False


def _refusal_reason(error: Exception) -> str:
    """The specific lines of torch's weights-only error (not its advice to
    retry with ``weights_only=False``)."""
    lines = [
        line.strip() for line in str(error).splitlines()
        if line.strip() and not line.startswith(
            ('Weights only load failed', 'Check the documentation'))
    ]
    return ' '.join(lines) or str(error)


def _refused(path: str, error: Exception) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(
        f'{path}: refused to load this checkpoint. It holds a pickled object '
        'that is not on the allow-list of weights-only loading (tensors, '
        'containers, numpy arrays, mmengine HistoryBuffer), so it may carry '
        'code; nothing of it was run. Only load checkpoints you trust; '
        'official release files load with the model converters in '
        f'tools/model_converters. Reason: {_refusal_reason(error)}')


def _corrupt(path: str, error: Exception) -> CorruptCheckpointError:
    return CorruptCheckpointError(
        f'{path}: the checkpoint is truncated or corrupt '
        f'({type(error).__name__}: {error}). It was probably written by a '
        'process that was killed; '
        'use an earlier checkpoint (e.g. --resume <work_dir>/epoch_N.pth) '
        'or download the file again.')


def load_checkpoint_file(path: str,
                         map_location='cpu',
                         extra_globals: Sequence = ()) -> dict:
    """``torch.load(path, weights_only=True)`` with clear errors.

    Args:
        path (str): A local checkpoint file.
        map_location: As for ``torch.load``. Defaults to 'cpu'.
        extra_globals (Sequence): Types allowed in addition to the
            process-wide allow-list, for this load only (e.g.
            ``argparse.Namespace`` in official training files).

    Raises:
        FileNotFoundError: ``path`` is not a file.
        CorruptCheckpointError: the file is truncated or corrupt.
        pickle.UnpicklingError: the file holds an object that is not allowed.
    """
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such checkpoint file')
    if not is_complete_checkpoint(path):
        raise _corrupt(path, EOFError('the zip archive has no central '
                                      'directory; the file ends early'))
    try:
        with torch.serialization.safe_globals(list(extra_globals)):
            return torch.load(path, map_location=map_location,
                              weights_only=True)
    except pickle.UnpicklingError as error:
        if 'Weights only load failed' in str(error):
            raise _refused(path, error) from None
        raise _corrupt(path, error) from None
    except (EOFError, RuntimeError, zipfile.BadZipFile) as error:
        raise _corrupt(path, error) from None


def _mmengine_local_loader(filename: str, map_location=None) -> dict:
    return load_checkpoint_file(filename, map_location=map_location)


def use_safe_local_checkpoint_loader() -> None:
    """Make :func:`load_checkpoint_file` mmengine's loader for local paths
    (``Runner.resume``, ``load_from``, ``Pretrained``, ``_load_checkpoint``).
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=_mmengine_local_loader, force=True)


def read_last_checkpoint(work_dir: str) -> str:
    """The path that mmengine's ``CheckpointHook`` wrote to
    ``work_dir/last_checkpoint``, or '' if there is none."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return ''
    with open(pointer) as f:
        return f.read().strip()


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume a run in ``work_dir`` from.

    mmengine's ``CheckpointHook`` names it in ``work_dir/last_checkpoint``.
    Returns None when the work dir holds no checkpoint at all (a new run).

    Raises:
        CorruptCheckpointError: ``last_checkpoint`` is missing, empty or
            names a missing or incomplete file although checkpoints exist;
            the message lists them, newest first, to pass to ``--resume``.
    """
    found = sorted(glob.glob(osp.join(work_dir, '*.pth')),
                   key=osp.getmtime, reverse=True)
    pointer = osp.join(work_dir, 'last_checkpoint')
    latest = read_last_checkpoint(work_dir)
    if not latest and not found:
        return None
    if latest and osp.isfile(latest) and is_complete_checkpoint(latest):
        return latest
    complete = [p for p in found if is_complete_checkpoint(p)]
    problem = (f'{pointer} is missing or empty' if not latest else
               f'{pointer} names {latest}, which '
               + ('is truncated or corrupt' if osp.isfile(latest) else
                  'does not exist'))
    raise CorruptCheckpointError(
        f'cannot resume automatically: {problem}. Complete checkpoints in '
        f'{work_dir}, newest first: {", ".join(complete) or "none"}. Resume '
        'from one explicitly with --resume <file>.')
