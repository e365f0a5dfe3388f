"""Mask generators for masked image modeling, each a transform that adds a
boolean ``mask`` (True = masked) of the patch grid."""
import math
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmsiam.registry import TRANSFORMS


@TRANSFORMS.register_module()
class BlockwiseMaskGenerator(BaseTransform):
    """BEiT block-wise masking with an exact number of masked patches.

    Rounds of rectangles are added until ``num_masking_patches`` cells are
    masked or a round adds nothing. A round makes up to 10 attempts: area
    ``~U(min_num_patches, remaining)``, log-uniform aspect ratio,
    ``h = round(sqrt(area * a))``, ``w = round(sqrt(area / a))``, kept if
    ``h < H`` and ``w < W`` and it masks between 1 and ``remaining`` new
    cells. With ``fixed_num_masking_patches`` random unmasked cells are then
    added until the count is exact (mmpretrain's ``BEiTMaskGenerator`` has no
    such top-up).

    Added key: ``mask`` (bool ``(H, W)``, True = masked).

    Args:
        input_size (int | tuple[int, int]): Patch grid (H, W), e.g. 14.
        num_masking_patches (int): Cells to mask, e.g. 118.
        min_num_patches (int): Smallest rectangle area. Defaults to 16.
        max_num_patches (int, optional): Largest rectangle area; None means
            the number still to mask.
        min_aspect (float): Smallest aspect ratio; the largest is its
            inverse unless ``max_aspect`` is given. Defaults to 0.3.
        fixed_num_masking_patches (bool): Top up to the exact count.
    """

    MAX_ATTEMPTS = 10

    def __init__(self,
                 input_size=14,
                 num_masking_patches: int = 118,
                 min_num_patches: int = 16,
                 max_num_patches: Optional[int] = None,
                 min_aspect: float = 0.3,
                 max_aspect: Optional[float] = None,
                 fixed_num_masking_patches: bool = True):
        self.height, self.width = (input_size, input_size) if isinstance(
            input_size, int) else tuple(input_size)
        if not 0 < num_masking_patches <= self.height * self.width:
            raise ValueError(
                f'num_masking_patches={num_masking_patches} does not fit a '
                f'{self.height}x{self.width} patch grid')
        self.num_masking_patches = num_masking_patches
        self.min_num_patches = min_num_patches
        self.max_num_patches = (num_masking_patches if max_num_patches is None
                                else max_num_patches)
        max_aspect = max_aspect or 1 / min_aspect
        self.log_aspect_ratio = (math.log(min_aspect), math.log(max_aspect))
        self.fixed_num_masking_patches = fixed_num_masking_patches

    def _add_block(self, mask: np.ndarray, max_new: int) -> int:
        """Mask one rectangle; returns the number of newly masked cells."""
        for _ in range(self.MAX_ATTEMPTS):
            area = np.random.uniform(self.min_num_patches, max_new)
            aspect = math.exp(np.random.uniform(*self.log_aspect_ratio))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if w < self.width and h < self.height:
                top = np.random.randint(0, self.height - h + 1)
                left = np.random.randint(0, self.width - w + 1)
                block = mask[top:top + h, left:left + w]
                new = h * w - int(block.sum())
                if 0 < new <= max_new:
                    block[...] = True
                    return new
        return 0

    def generate(self) -> np.ndarray:
        """One mask: bool ``(H, W)``."""
        mask = np.zeros((self.height, self.width), dtype=bool)
        count = 0
        while count < self.num_masking_patches:
            max_new = min(self.num_masking_patches - count,
                          self.max_num_patches)
            added = self._add_block(mask, max_new)
            if added == 0:
                break
            count += added
        if self.fixed_num_masking_patches and count < self.num_masking_patches:
            free = np.flatnonzero(~mask)
            extra = np.random.choice(
                free, self.num_masking_patches - count, replace=False)
            mask.flat[extra] = True
        return mask

    def transform(self, results: dict) -> dict:
        results['mask'] = self.generate()
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(input_size=({self.height}, '
                f'{self.width}), num_masking_patches='
                f'{self.num_masking_patches}, min_num_patches='
                f'{self.min_num_patches}, max_num_patches='
                f'{self.max_num_patches}, fixed_num_masking_patches='
                f'{self.fixed_num_masking_patches})')

