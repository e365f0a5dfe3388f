from .siameseim_projector import SiameseIMProjector
from .simple_fpn import SimpleFPN

__all__ = ['SiameseIMProjector', 'SimpleFPN']
