# ConMIM ViT-S/16 (384-d, 12 blocks, 6 heads), 300 epochs on ImageNet-1k,
# the ViT-B recipe otherwise (the ViT-S lr/batch are not published).
_base_ = 'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py'

model = dict(
    backbone=dict(arch='small'), neck=dict(in_channels=384))

max_epochs = 300
param_scheduler = [
    {{_base_.warmup_lr}},
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True,
         begin=10, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
