# MULAN-simsiam on the built-in data (4,000 MNIST digits) in about a minute
# on a CPU: the ResNet-50 paper config's model, loss and optimizer with a
# ResNet-18 of width 16 (128-d features) and 512-d projector / predictors,
# the paper's views at 64 / 32 pixels, 3 epochs at batch 64 and lr 0.025.
_base_ = [
    '../_base_/models/mulan-simsiam_resnet50.py',
    '../_base_/datasets/mnist5k_mulan.py',
    '../_base_/schedules/imagenet_sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
    '../_base_/evaluation/knn_mnist5k.py',
]

# ----- size -----
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    neck=dict(in_channels=128, hid_channels=512, out_channels=512),
    head=dict(
        predictor=dict(in_channels=512, hid_channels=128, out_channels=512)))

# ----- schedule: 3 epochs at lr 0.025 -----
# Twice the paper's lr scaled to batch 64 (0.05 x 64 / 256 = 0.0125): in
# the 186 iterations of the demo the scaled lr leaves the loss at 0 (no
# alignment learnt), and 0.1, which raised kNN top-1 by about 15 points
# at seed 0, collapses the features (effective rank 75 -> 1.2-1.5 within
# 2 epochs): MULAN's linear protocol on 100 labels then falls below the
# random initialisation. kNN top-1 random init -> trained, effective rank
# at the end, linear protocol (from scratch 21.3 / 25.7 / 28.7), seeds
# 0 / 1 / 2 (docs/small_scale.md, cause 6):
#   lr 0.1:   +17.4 / +6.7 / +4.6, rank 1.2 / 1.2 / 1.2, 25.0 / 14.7 / 16.9
#   lr 0.05:  +11.1 / +6.2 (seeds 0 / 1), rank 2.3 / 1.6, 22.4 / 33.6
#   lr 0.025: +11.7 / +15.1 / +11.7, rank 65.3 / 23.2 / 4.7,
#             36.7 / 41.7 / 46.1
# fp32 instead of the paper's AMP, as in the BYOL demo.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='FrozenSummaryOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.025, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg={{_base_.optim_wrapper.paramwise_cfg}})
param_scheduler = [
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-3, by_epoch=True,
         begin=0, end=3)
]
custom_hooks = [
    dict(type='FixedPeakLRHook')
]
train_cfg = dict(max_epochs=3)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(max_keep_ckpts=2),
    val_at_start=dict(type='ValidateAtStartHook'))
# kNN monitor: the online encoder, average-pooled (the paper's monitor).
val_cfg = dict(feature='avg', branch='online')
