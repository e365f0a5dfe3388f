from .conmim_vit import ConMIMViT
from .dino_vit import DINOViT
from .siameseim_vit import SiameseIMViT
from .strict_pretrained import (StrictPretrainedBEiTViT,
                                StrictPretrainedResNet, StrictPretrainedViT)
from .vitdet import ViTDet

__all__ = [
    'ConMIMViT', 'DINOViT', 'SiameseIMViT', 'StrictPretrainedBEiTViT',
    'StrictPretrainedResNet',
    'StrictPretrainedViT', 'ViTDet'
]
