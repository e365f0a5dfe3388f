# MULAN (BYOL) on ViT-B/16: the ViT-S recipe with a 768-d encoder.
_base_ = 'mulan-byol_vit-small-p16_4xb256-amp-coslr-200e_in1k.py'

model = dict(backbone=dict(arch='b'), neck=dict(in_channels=768))
