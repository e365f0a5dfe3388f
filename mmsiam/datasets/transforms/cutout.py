import math
from typing import Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmsiam.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomCutout(BaseTransform):
    """Fill one random rectangle of the image with a constant colour
    (MULAN's cutout view; before colour jitter, so the block is jittered
    with the rest).

    Up to ``max_tries`` draws of area ``H * W * U(area_range)`` and aspect
    ``exp(U(log(aspect_range)))``, ``w = round(sqrt(area * aspect))``,
    ``h = round(sqrt(area / aspect))``, accepted if ``0 < w <= W`` and
    ``0 < h <= H``; the box is placed uniformly (``top ~ randint[0, H - h]``,
    ``left ~ randint[0, W - w]``). If no draw fits, the central box of
    RandomResizedCrop's fallback is used (the whole image when its aspect
    lies in ``aspect_range``).

    Added key: ``cutout_box`` (tuple[int]): ``(top, left, height, width)``.

    Args:
        area_range (tuple[float, float]): Box area as a fraction of the
            image. Defaults to (0.2, 0.4).
        aspect_range (tuple[float, float]): Box width / height. Defaults to
            (3/4, 4/3).
        fill_color (Sequence[float]): Per-channel fill in the pipeline's
            channel order (BGR for images loaded by mmcv); the dataset mean
            becomes 0 after normalisation. Defaults to ImageNet's mean in
            BGR ``(103.53, 116.28, 123.675)``.
        max_tries (int): Defaults to 10.
    """

    def __init__(self,
                 area_range: Tuple[float, float] = (0.2, 0.4),
                 aspect_range: Tuple[float, float] = (3 / 4, 4 / 3),
                 fill_color: Sequence[float] = (103.53, 116.28, 123.675),
                 max_tries: int = 10):
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(
                f'area_range must lie in (0, 1], got {area_range}')
        if not 0 < aspect_range[0] <= aspect_range[1]:
            raise ValueError(f'aspect_range must be positive, got '
                             f'{aspect_range}')
        self.area_range = tuple(area_range)
        self.log_aspect_range = (math.log(aspect_range[0]),
                                 math.log(aspect_range[1]))
        self.fill_color = np.asarray(fill_color, dtype=np.float64)
        self.max_tries = max_tries

    def sample_box(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """``(top, left, h, w)`` of one box for an ``height x width`` image."""
        for _ in range(self.max_tries):
            area = height * width * np.random.uniform(*self.area_range)
            aspect = math.exp(np.random.uniform(*self.log_aspect_range))
            w = int(round(math.sqrt(area * aspect)))
            h = int(round(math.sqrt(area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                top = np.random.randint(0, height - h + 1)
                left = np.random.randint(0, width - w + 1)
                return top, left, h, w
        low, high = (math.exp(r) for r in self.log_aspect_range)
        if width / height < low:
            w, h = width, int(round(width / low))
        elif width / height > high:
            h, w = height, int(round(height * high))
        else:
            h, w = height, width
        return (height - h) // 2, (width - w) // 2, h, w

    def transform(self, results: dict) -> dict:
        img = results['img']
        top, left, h, w = self.sample_box(*img.shape[:2])
        fill = self.fill_color if img.ndim == 3 else self.fill_color.mean()
        img = img.copy()
        img[top:top + h, left:left + w] = np.round(fill).astype(img.dtype) \
            if np.issubdtype(img.dtype, np.integer) else fill
        results['img'] = img
        results['cutout_box'] = (top, left, h, w)
        return results
