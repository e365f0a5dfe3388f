from .conmim_vit import ConMIMViT
from .siameseim_vit import SiameseIMViT
from .strict_pretrained import (StrictPretrainedBEiTViT,
                                StrictPretrainedResNet, StrictPretrainedViT)
from .vitdet import ViTDet

__all__ = [
    'ConMIMViT', 'SiameseIMViT', 'StrictPretrainedBEiTViT',
    'StrictPretrainedResNet',
    'StrictPretrainedViT', 'ViTDet'
]
