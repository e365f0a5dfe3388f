# ConMIM ViT-B/16, 800 epochs on ImageNet-1k, 32 GPUs x 64 images = 2048.
# The published recipe (the README command; the paper gives the ViT-S/B
# settings no further): AdamW (0.9, 0.98), wd 0.05 (none on 1-D parameters,
# biases and the cls token; the mask token and the relative position bias
# table keep it), lr 7.5e-4 for the total batch (not scaled), 10 warm-up
# epochs from 0, then per-iteration cosine to 1e-5, grad clip 1.0, fp16 AMP,
# layer scale 0.1. Projector BatchNorms are per GPU (no SyncBN).
_base_ = [
    '../_base_/models/conmim_vit-base-p16.py',
    '../_base_/datasets/imagenet_conmim.py',
    '../_base_/imagenet_runtime.py',
    # kNN monitor on an ImageNet subset, off; uncomment to enable
    # (see the file for the subset size and val_interval).
    # '../_base_/evaluation/knn_imagenet-subset.py',
]
# With the kNN monitor: val_cfg = dict(feature='avg', branch='target')

train_dataloader = dict(batch_size=64)

optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    # frozen modules (the teacher) logged in one line
    constructor='FrozenSummaryOptimWrapperConstructor',
    loss_scale='dynamic',
    # fused: one kernel for all parameters (CPU and CUDA), not a loop
    optimizer=dict(
        type='AdamW', lr=7.5e-4, betas=(0.9, 0.98), eps=1e-8,
        weight_decay=0.05, fused=True),
    clip_grad=dict(max_norm=1.0),
    paramwise_cfg=dict(
        flat_decay_mult=0., custom_keys={'cls_token': dict(decay_mult=0.)}))

max_epochs = 800
warmup_lr = dict(
    type='LinearLR',
    start_factor=1e-9,
    by_epoch=True,
    begin=0,
    end=10,
    convert_to_iter_based=True)
# T_max = end - begin; longer or shorter configs change `end` only.
param_scheduler = [
    warmup_lr,
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True,
         begin=10, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)

default_hooks = dict(checkpoint=dict(interval=20))

# lr is given for the total batch 2048 = 32 x 64; --auto-scale-lr rescales.
auto_scale_lr = dict(base_batch_size=2048)
