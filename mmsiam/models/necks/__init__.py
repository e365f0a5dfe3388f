from .siameseim_projector import SiameseIMProjector
from .simple_fpn import SimpleFPN
from .token_projector import TokenProjector

__all__ = ['SiameseIMProjector', 'SimpleFPN', 'TokenProjector']
