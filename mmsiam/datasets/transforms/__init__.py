from .cutout import RandomCutout
from .geometry import (RandomResizedCropWithBox, SiameseIMRelativeGeometry,
                       relative_geometry)
from .loading import LoadImageOrSkip, UnreadableImagesError
from .masking import BlockwiseMaskGenerator, SimMIMCellMaskGenerator
from .multi_view import MultiViewWithKeys
from .pil_transforms import (PILColorJitter, PILGaussianBlur, PILRandomFlip,
                             PILRandomGrayscale, PILSolarize)

__all__ = [
    'RandomResizedCropWithBox', 'SiameseIMRelativeGeometry',
    'relative_geometry', 'BlockwiseMaskGenerator',
    'SimMIMCellMaskGenerator', 'MultiViewWithKeys', 'RandomCutout',
    'LoadImageOrSkip', 'UnreadableImagesError', 'PILColorJitter',
    'PILRandomFlip', 'PILRandomGrayscale', 'PILGaussianBlur', 'PILSolarize'
]
