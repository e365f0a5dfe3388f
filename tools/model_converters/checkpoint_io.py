"""Reading official checkpoints and writing mmsiam checkpoints safely; a
converter's error for an unreadable input file."""
import argparse
import contextlib
import os.path as osp
import sys
import time
from typing import Dict

import torch

from mmsiam.checkpoint.atomic_files import atomic_write
from mmsiam.checkpoint.safe_loading import (CorruptCheckpointError,
                                            load_checkpoint_file)

# What to convert instead of an unreadable file (``{dir}``: its folder).
EXPORT_ANOTHER = ('Export another checkpoint of its work dir instead, e.g. '
                  'an earlier {dir}/epoch_N.pth')
DOWNLOAD_AGAIN = 'Download or copy the file again'


def file_size(path: str) -> str:
    """``path``'s size, e.g. '330.2 MB'."""
    return f'{osp.getsize(path) / 2**20:.1f} MB'


@contextlib.contextmanager
def timed_step(message: str):
    """Print ``message ...`` before a long step and its duration after it,
    so that converting a large checkpoint shows where it is."""
    print(f'{message} ...', flush=True)
    start = time.perf_counter()
    yield
    print(f'  done in {time.perf_counter() - start:.1f} s', flush=True)


@contextlib.contextmanager
def exit_if_unreadable(path: str, advice: str):
    """End the converter when loading ``path`` in the block raises
    :class:`CorruptCheckpointError` (a truncated or corrupt file), with an
    error that names the file and gives ``advice`` (what to convert
    instead; ``{dir}`` is the file's folder), in place of the training
    message's advice to ``--resume``."""
    try:
        yield
    except CorruptCheckpointError:
        sys.exit(f'error: {path}: the checkpoint is unreadable: the file '
                 'is truncated or corrupt (its writing or copying was '
                 'probably cut short), so nothing was converted. '
                 + advice.format(dir=osp.dirname(path) or '.') + '.')


def load_official_checkpoint(path: str) -> dict:
    """An official training or release file as saved.

    Loaded weights-only (:func:`load_checkpoint_file`);
    ``argparse.Namespace`` (the ``args`` entry of official training files)
    is the one extra type allowed. A truncated file ends the converter with
    an error that names it (:func:`exit_if_unreadable`).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such checkpoint file')
    with timed_step(f'loading {path} ({file_size(path)})'), \
            exit_if_unreadable(path, DOWNLOAD_AGAIN):
        return load_checkpoint_file(path, extra_globals=[argparse.Namespace])


def load_official_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """The state dict of an official training or release file (under
    ``model``, ``module`` or ``state_dict``, or the file itself)."""
    ckpt = load_official_checkpoint(path)
    for key in ('model', 'module', 'state_dict'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            return ckpt[key]
    if isinstance(ckpt, dict) and all(
            isinstance(v, torch.Tensor) for v in ckpt.values()):
        return ckpt
    found = sorted(ckpt)[:10] if isinstance(ckpt, dict) else type(ckpt)
    raise KeyError(f'{path}: expected a state dict, or a dict with a '
                   f'"model", "module" or "state_dict" entry; found keys '
                   f'{found}')


def save_converted(state_dict: Dict[str, torch.Tensor], meta: dict,
                   notes, path: str, overwrite: bool = False) -> None:
    """Write a converter's ``{'state_dict', 'meta'}`` checkpoint with
    :func:`save_checkpoint` and report its notes and size."""
    save_checkpoint(dict(state_dict=state_dict, meta=meta), path,
                    overwrite=overwrite)
    for note in notes:
        print(f'note: {note}')
    print(f'wrote {len(state_dict)} keys to {path} ({file_size(path)})')


def save_checkpoint(checkpoint: dict, path: str,
                    overwrite: bool = False) -> None:
    """Write ``checkpoint`` to ``path`` atomically (:func:`atomic_write`);
    refuses to replace an existing file unless ``overwrite``."""
    if osp.exists(path) and not overwrite:
        raise FileExistsError(f'{path} exists; choose another name or pass '
                              '--overwrite')
    with timed_step(f'saving {path}'), atomic_write(path) as f:
        torch.save(checkpoint, f)


def load_strictly(net: torch.nn.Module, state_dict: Dict[str, torch.Tensor],
                  name: str) -> torch.nn.Module:
    """``net.load_state_dict(state_dict, strict=True)`` whose failure is a
    KeyError that names the missing and unexpected keys (or the tensor of
    another shape) and the model ``name``."""
    try:
        missing, unexpected = net.load_state_dict(state_dict, strict=False)
    except RuntimeError as err:  # a tensor of another shape
        raise KeyError(f'the export does not match {name}: {err}') from err
    if missing or unexpected:
        raise KeyError(f'the export does not match {name}: missing '
                       f'{missing[:8]}, unexpected {unexpected[:8]}')
    return net
