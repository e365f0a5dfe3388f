from .siameseim_vit import SiameseIMViT
from .strict_pretrained import StrictPretrainedResNet, StrictPretrainedViT
from .vitdet import ViTDet

__all__ = [
    'SiameseIMViT', 'StrictPretrainedResNet', 'StrictPretrainedViT', 'ViTDet'
]
