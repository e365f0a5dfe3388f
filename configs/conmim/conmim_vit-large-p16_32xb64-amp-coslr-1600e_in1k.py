# ConMIM ViT-L/16, 1600 epochs on ImageNet-1k: the published command
# (32 A100 x 64 = 2048, lr 7.5e-4, min lr 1e-5, 10 warm-up epochs, grad
# clip 1.0, layer scale 1e-5).
_base_ = 'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py'

model = dict(
    backbone=dict(arch='large', layer_scale_init_value=1e-5),
    neck=dict(in_channels=1024))

max_epochs = 1600
param_scheduler = [
    {{_base_.warmup_lr}},
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True,
         begin=10, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
