# MULAN-byol on the built-in data (4,000 MNIST digits) in about 4 minutes
# on a CPU: the ResNet-50 paper config's model, loss and optimizer with a
# ResNet-18 of width 16 (128-d features), 512-d hidden layers in the
# projector / predictors, the paper's views at 64 / 32 pixels, 5 epochs at
# batch 64. kNN top-1 56.4 (random init) -> 77.7; over seeds 0, 1, 2 it
# rises by 21.3, 13.4 and 12.4 points. Measured on this data
# (docs/small_scale.md, causes 2 and 6; kNN top-1 gain, seeds 0 / 1 / 2):
# - the paper's 256-d projector / predictor outputs (the demo had shrunk
#   them to 64, whose features collapse fastest);
# - LARS lr 0.3 instead of the paper's 0.4 x 64 / 256 = 0.1, a step that
#   186 iterations can use: 3 epochs, +23.3 / +8.8 / +7.9;
# - 5 epochs instead of 3: +21.3 / +13.4 / +12.4 (longer runs collapse:
#   at 12 epochs the 64-d demo fell 14 points below its epoch-4 value).
_base_ = [
    '../_base_/models/mulan-byol_resnet50.py',
    '../_base_/datasets/mnist5k_mulan.py',
    '../_base_/schedules/imagenet_lars_coslr_200e.py',
    '../_base_/default_runtime.py',
    '../_base_/evaluation/knn_mnist5k.py',
]

# ----- size -----
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    neck=dict(in_channels=128, hid_channels=512, out_channels=256),
    head=dict(
        predictor=dict(in_channels=256, hid_channels=512, out_channels=256)))

# ----- schedule: 5 epochs (1 warm-up), lr 0.3, fp32 -----
# fp32 instead of the paper's AMP: without CUDA, AMP is bf16 autocast, no
# faster than fp32 for this small network on CPUs with bf16 units and
# about 10x slower on CPUs without them (AVX2 only; docs/small_scale.md,
# cause 8).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='FrozenSummaryOptimWrapperConstructor',
    optimizer=dict(
        type='LARSMoCoV3', lr=0.3, momentum=0.9, weight_decay=1.5e-6,
        eta=0.001))
param_scheduler = [
    dict(
        type='LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    # no `end`: the cosine ends at train_cfg.max_epochs
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-3, by_epoch=True,
         begin=1, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=5)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(max_keep_ckpts=2),
    val_at_start=dict(type='ValidateAtStartHook'))
# kNN monitor: the online encoder, average-pooled (the paper's monitor).
val_cfg = dict(feature='avg', branch='online')
