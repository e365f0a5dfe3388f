"""Mask generators for masked image modeling, each a transform that adds a
boolean ``mask`` (True = masked) of the patch grid."""
import math
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmpretrain.datasets.transforms import SimMIMMaskGenerator

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



@TRANSFORMS.register_module()
class SimMIMCellMaskGenerator(SimMIMMaskGenerator):
    """SimMIM random masking of square cells, as a bool patch mask.

    mmpretrain's ``SimMIMMaskGenerator`` (same numpy draws, so the same
    masks under the same seed): the image is split into
    ``input_size / mask_patch_size`` cells per side, ``ceil(cells * ratio)``
    of them are picked by ``np.random.permutation`` and every cell covers
    ``(mask_patch_size / model_patch_size)^2`` patches. ConMIM: 224 / 32 /
    16 / 0.75 masks 37 of 49 cells, 148 of 196 patches, in every image.

    Added key: ``mask`` (bool ``(G, G)``, ``G = input_size /
    model_patch_size``, True = masked).
    """

    def __init__(self,
                 input_size: int = 224,
                 mask_patch_size: int = 32,
                 model_patch_size: int = 16,
                 mask_ratio: float = 0.75):
        if input_size % mask_patch_size or mask_patch_size % model_patch_size:
            raise ValueError(
                f'SimMIMCellMaskGenerator: input_size ({input_size}) must be '
                f'a multiple of mask_patch_size ({mask_patch_size}), and that '
                f'a multiple of model_patch_size ({model_patch_size})')
        if not 0 < mask_ratio < 1:
            raise ValueError(f'mask_ratio must be in (0, 1), got {mask_ratio}')
        super().__init__(input_size, mask_patch_size, model_patch_size,
                         mask_ratio)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        results['mask'] = results['mask'].astype(bool)
        return results
