from .siameseim_vit import SiameseIMViT
from .strict_pretrained_vit import StrictPretrainedViT
from .vitdet import ViTDet

__all__ = ['SiameseIMViT', 'StrictPretrainedViT', 'ViTDet']
