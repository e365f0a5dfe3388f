# ConMIM ViT-L/16, 800 epochs on ImageNet-1k: the 1600-epoch recipe, half
# the schedule.
_base_ = 'conmim_vit-large-p16_32xb64-amp-coslr-1600e_in1k.py'

max_epochs = 800
param_scheduler = [
    {{_base_.warmup_lr}},
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True,
         begin=10, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
