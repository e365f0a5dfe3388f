from typing import Dict

import numpy as np
from mmpretrain.datasets.transforms import ColorJitter
from PIL import Image, ImageEnhance

from mmsiam.registry import TRANSFORMS
from mmsiam.stack_fixes import shift_pil_hue

# ColorJitter's adjustment index -> the PIL enhancer of mmcv's pillow
# backend (3, the hue, is shift_pil_hue).
ENHANCERS = {0: ImageEnhance.Brightness, 1: ImageEnhance.Contrast,
             2: ImageEnhance.Color}


@TRANSFORMS.register_module()
class PILColorJitter(ColorJitter):
    """mmpretrain's ``ColorJitter`` (pillow backend) with one numpy-to-PIL
    round trip per image instead of one per adjustment.

    mmpretrain applies brightness, contrast, saturation and hue in a random
    order through ``mmcv.adjust_*(backend='pillow')``, each of which turns
    the BGR array into a PIL image and back. This transform draws the same
    random order and factors (``_rand_params``), converts once, applies the
    same PIL operations (``ImageEnhance``, mmcv's hue shift) and converts
    back: the same pixels, bit for bit, at about half the cost of the
    SiameseIM / MULAN / ConMIM photometric views (docs/performance.md, data
    pipeline). Other backends and inputs than ``(H, W, 3)`` uint8 go to
    ``ColorJitter`` itself.

    Args: those of mmpretrain's ``ColorJitter`` (``brightness``,
    ``contrast``, ``saturation``, ``hue``, ``backend``).
    Shape: ``img`` ``(H, W, 3)`` uint8 BGR -> the same.
    """

    def transform(self, results: Dict) -> Dict:
        img = results['img']
        if self.backend != 'pillow' or img.dtype != np.uint8 or (
                img.ndim != 3 or img.shape[-1] != 3):
            return super().transform(results)
        order, *factors = self._rand_params()
        image = Image.fromarray(img[..., ::-1], mode='RGB')
        for index in order:
            factor = factors[index]
            if factor is None:
                continue
            if index == 3:
                image = shift_pil_hue(image, factor)
            else:
                image = ENHANCERS[index](image).enhance(factor)
        results['img'] = np.array(image, dtype=img.dtype)[..., ::-1]
        return results
