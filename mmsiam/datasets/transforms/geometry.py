"""Crops that remember where they came from, and the relative geometry of
two such views (SiameseIM)."""
from typing import Sequence

import numpy as np
import torch
from mmcv.image.geometric import pillow_interp_codes
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import RandomResizedCrop
from PIL import Image

from mmsiam.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomResizedCropWithBox(RandomResizedCrop):
    """mmpretrain's ``RandomResizedCrop`` (torchvision's sampling: 10 tries,
    then a centre crop) that also records the crop, and also crops a PIL
    image (``crop`` then ``resize``, the same pixels as the array path with
    ``backend='pillow'``; see ``pil_transforms.py``).

    Added keys:

    - ``crop_box`` (tuple[int]): ``(top, left, height, width)`` of the crop
      in pixels of the image it was taken from (after any earlier flip).
    - ``crop_source_width`` (int): width of that image.

    Shape: ``img`` ``(H, W, C)`` array or PIL image -> the same kind of
    ``scale`` (``(h, w)``).
    """

    def rand_crop_params(self, img):
        if isinstance(img, Image.Image):
            # mmpretrain's sampling reads only the shape.
            img = np.broadcast_to(np.uint8(0), (img.height, img.width))
        box = super().rand_crop_params(img)
        self._last_box = tuple(int(v) for v in box)
        return box

    def transform(self, results: dict) -> dict:
        img = results['img']
        if isinstance(img, Image.Image):
            source_width = img.width
            results['img'] = self._crop_pil(img)
            results['img_shape'] = tuple(self.scale)
        else:
            source_width = img.shape[1]
            results = super().transform(results)
        results['crop_box'] = self._last_box
        results['crop_source_width'] = source_width
        return results

    def _crop_pil(self, image: Image.Image) -> Image.Image:
        if self.backend != 'pillow':
            raise ValueError(
                f"RandomResizedCropWithBox(backend='{self.backend}') got a "
                "PIL image; use backend='pillow' or crop before ToPIL")
        top, left, height, width = self.rand_crop_params(image)
        return image.crop((left, top, left + width, top + height)).resize(
            tuple(self.scale[::-1]), pillow_interp_codes[self.interpolation])


def relative_geometry(box1: Sequence[float], box2: Sequence[float],
                      flip1: bool, flip2: bool,
                      source_width: float) -> np.ndarray:
    """The six SiameseIM scalars that place view 2 in view-1 coordinates.

    Boxes are ``(i, j, h, w)`` = (top, left, height, width) in pixels of the
    full image *after that view's own horizontal flip* (flip, then crop).

    Returns:
        np.ndarray: float64 ``(6,)``: ``delta_i = (i2 - i1) / h1``,
        ``delta_j = (j2 - j1) / w1``, ``delta_h = h2 / h1``,
        ``delta_w = w2 / w1``, ``relative_flip = flip1 xor flip2`` (0/1),
        ``flip_delta_j = (W - j1 - j2) / w1``.
    """
    i1, j1, h1, w1 = map(float, box1)
    i2, j2, h2, w2 = map(float, box2)
    return np.array([(i2 - i1) / h1, (j2 - j1) / w1, h2 / h1, w2 / w1,
                     float(bool(flip1) != bool(flip2)),
                     (float(source_width) - j1 - j2) / w1])


@TRANSFORMS.register_module()
class SiameseIMRelativeGeometry(BaseTransform):
    """Compute ``relative_geometry`` of view 2 with respect to view 1.

    Required keys (per-view lists, as kept by ``MultiViewWithKeys``):
    ``flip``, ``crop_box``, ``crop_source_width``.

    Added key: ``relative_geometry`` (float32 tensor ``(6,)``, see
    :func:`relative_geometry`), packed as a DataSample field by
    ``PackInputs(algorithm_keys=['relative_geometry'])``.
    """

    def transform(self, results: dict) -> dict:
        flips, boxes = results['flip'], results['crop_box']
        widths = results['crop_source_width']
        if not len(flips) == len(boxes) == len(widths) == 2:
            raise ValueError(
                'SiameseIMRelativeGeometry needs exactly 2 views with '
                f'"flip", "crop_box" and "crop_source_width"; got {len(boxes)}'
                ' crop boxes. Keep them with MultiViewWithKeys(keys=[...]).')
        if widths[0] != widths[1]:
            raise ValueError('both views must be cropped from the same image '
                             f'(widths {widths[0]} and {widths[1]})')
        results['relative_geometry'] = torch.from_numpy(
            relative_geometry(boxes[0], boxes[1], flips[0], flips[1],
                              widths[0]).astype(np.float32))
        return results
