from .color_jitter import PILColorJitter
from .cutout import RandomCutout
from .geometry import (RandomResizedCropWithBox, SiameseIMRelativeGeometry,
                       relative_geometry)
from .loading import LoadImageOrSkip, UnreadableImagesError
from .masking import BlockwiseMaskGenerator, SimMIMCellMaskGenerator
from .multi_view import MultiViewWithKeys

__all__ = [
    'RandomResizedCropWithBox', 'SiameseIMRelativeGeometry',
    'relative_geometry', 'BlockwiseMaskGenerator',
    'SimMIMCellMaskGenerator', 'MultiViewWithKeys', 'RandomCutout',
    'LoadImageOrSkip', 'UnreadableImagesError', 'PILColorJitter'
]
