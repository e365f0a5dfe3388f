from .siameseim_vit import SiameseIMViT
from .vitdet import ViTDet

__all__ = ['SiameseIMViT', 'ViTDet']
