# MULAN (BYOL, 2 global + 2 local + 1 cutout views) on ResNet-50, 200
# epochs on ImageNet-1k, 4 GPUs x 256 = 1024 images. LARS (momentum 0.9,
# eta 0.001), lr 0.4 x 1024 / 256 = 1.6, wd 1.5e-6 (no decay and no LARS
# adaptation for BatchNorm and bias parameters), 10 warm-up epochs from 0,
# then per-iteration cosine to 0.001 x peak; fp16 AMP.
_base_ = [
    '../_base_/models/mulan-byol_resnet50.py',
    '../_base_/datasets/imagenet_mulan.py',
    '../_base_/schedules/imagenet_lars_coslr_200e.py',
    '../_base_/imagenet_runtime.py',
    # kNN monitor on an ImageNet subset, off; uncomment to enable
    # (see the file for the subset size and val_interval).
    # '../_base_/evaluation/knn_imagenet-subset.py',
]
# With the kNN monitor: val_cfg = dict(feature='avg')

# Both encoders and every view in NHWC (channels_last): the same loss and
# gradients, a ResNet-50 step at batch 4 on CPU 1.80 -> 1.40 s in bf16 and
# 2.72 -> 2.47 s in fp32 (docs/performance.md); NHWC is also the layout of
# cuDNN's tensor-core convolutions.
model = dict(channels_last=True)

train_dataloader = dict(batch_size=256)
