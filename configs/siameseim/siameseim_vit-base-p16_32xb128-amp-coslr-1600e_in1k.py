# SiameseIM ViT-B/16, 1600 epochs on ImageNet-1k, 32 GPUs x 128 images.
# Recipe: AdamW (0.9, 0.95), wd 0.05 (also on cls/mask tokens; none on
# norms and biases), lr 6.25e-5 x 4096 / 256 = 1e-3, 40 warm-up epochs then
# per-iteration cosine to 0, grad clip 1.0, fp16 AMP, SyncBN over tokens.
_base_ = [
    '../_base_/models/siameseim_vit-base-p16.py',
    '../_base_/datasets/imagenet_siameseim.py',
    '../_base_/schedules/imagenet_adamw_coslr_1600e.py',
    '../_base_/imagenet_runtime.py',
    # kNN monitor on an ImageNet subset, off; uncomment to enable
    # (see the file for the subset size and val_interval).
    # '../_base_/evaluation/knn_imagenet-subset.py',
]

train_dataloader = dict(batch_size=128)
# With the kNN monitor: val_cfg = dict(feature='avg')  (the linear probe's
# average-pooled feature)

optim_wrapper = dict(
    optimizer=dict(lr=6.25e-5 * 4096 / 256, betas=(0.9, 0.95)),
    # ndim <= 1 parameters and biases get no weight decay; the cls and mask
    # tokens (3-D) keep it, as published.
    paramwise_cfg=dict(flat_decay_mult=0., bias_decay_mult=0.))

# BatchNorms over tokens are synchronised across GPUs (global statistics).
sync_bn = 'torch'
default_hooks = dict(checkpoint=dict(interval=20))

# lr is given for the total batch 4096 = 32 x 128; --auto-scale-lr rescales.
auto_scale_lr = dict(base_batch_size=4096)
