# MULAN with SimSiam on ResNet-50, 200 epochs on ImageNet-1k, 4 GPUs x 128
# = 512 images: SGD lr 0.1 (0.05 x 512 / 256), wd 1e-4 on every parameter,
# per-epoch cosine to 0.001 x peak without warm-up, predictors at the peak
# lr; stop-gradient target copy; task weights 0.333.
_base_ = [
    '../_base_/models/mulan-simsiam_resnet50.py',
    '../_base_/datasets/imagenet_mulan.py',
    '../_base_/schedules/imagenet_sgd_coslr_200e.py',
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

train_dataloader = dict(batch_size=128)
