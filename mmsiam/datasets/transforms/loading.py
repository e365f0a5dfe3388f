import logging
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log

from mmsiam.registry import TRANSFORMS

JPEG_START, JPEG_END = b'\xff\xd8', b'\xff\xd9'
PNG_START, PNG_END = b'\x89PNG\r\n\x1a\n', b'IEND'


class UnreadableImagesError(RuntimeError):
    """More images could not be read than a pipeline allows."""


def truncation(data: bytes) -> Optional[str]:
    """Why encoded image ``data`` is incomplete, or None.

    OpenCV decodes a truncated JPEG without an error (the missing rows come
    out grey), so the end markers are checked: a JPEG's end-of-image marker
    (``FF D9``, which cannot occur in entropy-coded data; some writers pad
    after it) and a PNG's ``IEND`` chunk.
    """
    if not data:
        return 'the file is empty'
    if data.startswith(JPEG_START) and JPEG_END not in data[-1024:]:
        return 'truncated JPEG (no end-of-image marker)'
    if data.startswith(PNG_START) and PNG_END not in data[-32:]:
        return 'truncated PNG (no IEND chunk)'
    return None


@TRANSFORMS.register_module()
class LoadImageOrSkip(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` that skips unreadable images.

    A missing, empty, undecodable or truncated file is skipped: the
    transform returns None, and mmengine's ``BaseDataset`` takes another
    sample instead (drawn with the sample's seed under ``SeededDataset``, so
    runs stay reproducible). Each data-loader worker counts the distinct
    files it skipped and logs a warning naming the file and the reason the
    first time; when a worker has met more than ``max_skipped`` of them,
    :class:`UnreadableImagesError` stops the run, naming them (a data set
    that is broken as a whole fails early instead of training on what is
    left).

    Args:
        max_skipped (int): Distinct unreadable files tolerated per
            data-loader worker. Defaults to 100.
        **kwargs: ``LoadImageFromFile`` arguments (``color_type``,
            ``imdecode_backend``, ``backend_args``...).
    """

    def __init__(self, max_skipped: int = 100, **kwargs):
        super().__init__(**kwargs)
        if max_skipped < 0:
            raise ValueError('LoadImageOrSkip: max_skipped must be >= 0, got '
                             f'{max_skipped}')
        self.max_skipped = max_skipped
        self.skipped = {}  # path -> reason, in this worker

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            data = fileio.get(path, backend_args=self.backend_args)
            problem = truncation(data)
            img = None if problem else mmcv.imfrombytes(
                data, flag=self.color_type, backend=self.imdecode_backend)
            if img is None and not problem:
                problem = 'not a decodable image'
        except Exception as error:  # unreadable for any reason: skip it
            problem = f'{type(error).__name__}: {error}'
        if problem:
            return self._skip(path, problem)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _skip(self, path: str, problem: str) -> None:
        if path in self.skipped:
            return None
        self.skipped[path] = problem
        print_log(
            f'skipped unreadable image {path}: {problem}; another image '
            'of the data set takes its place, so the epoch keeps its length '
            f'and the data set\'s image count still includes it '
            f'({len(self.skipped)} skipped by this data-loader worker, '
            f'max_skipped={self.max_skipped})',
            logger='current', level=logging.WARNING)
        if len(self.skipped) > self.max_skipped:
            shown = '; '.join(f'{p} ({why})'
                              for p, why in list(self.skipped.items())[-20:])
            raise UnreadableImagesError(
                f'{len(self.skipped)} images could not be read, more than '
                f'max_skipped={self.max_skipped} of LoadImageOrSkip: {shown}.'
                ' Fix or remove them, or raise max_skipped in the pipeline.')
        return None
