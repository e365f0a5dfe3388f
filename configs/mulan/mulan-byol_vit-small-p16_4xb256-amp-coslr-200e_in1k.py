# MULAN (BYOL, 2 global + 2 local + 1 cutout views) on ViT-S/16, 200 epochs
# on ImageNet-1k, 4 GPUs x 256 = 1024 images: AdamW (0.9, 0.98), lr 1.2e-3,
# wd 0.1, grad clip 0.5, drop path 0.1, EMA 0.998 -> 1, fp16 AMP.
_base_ = [
    '../_base_/models/mulan-byol_vit-small-p16.py',
    '../_base_/datasets/imagenet_mulan.py',
    '../_base_/schedules/imagenet_adamw_coslr_200e.py',
    '../_base_/imagenet_runtime.py',
    # kNN monitor on an ImageNet subset, off; uncomment to enable
    # (see the file for the subset size and val_interval).
    # '../_base_/evaluation/knn_imagenet-subset.py',
]

train_dataloader = dict(batch_size=256)
