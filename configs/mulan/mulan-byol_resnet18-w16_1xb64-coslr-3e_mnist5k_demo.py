# MULAN-BYOL on the built-in data (4,000 MNIST digits) in minutes on a CPU.
# Inherits the ResNet-50 paper config and overrides only size, data and
# schedule: a ResNet-18 of width 16 (128-d features), a 512-d projector /
# predictors to 64-d, views of 64 pixels (global, cutout) and 32 pixels
# (local), 3 epochs (1 warm-up).
_base_ = 'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py'

# ----- size -----
model = dict(
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    neck=dict(in_channels=128, hid_channels=512, out_channels=64),
    head=dict(
        predictor=dict(in_channels=64, hid_channels=512, out_channels=64)))

# ----- data: MNIST5k digits, the paper's views at 64 / 32 pixels -----
global_crop = [
    dict(
        type='RandomResizedCrop',
        scale=64,
        crop_ratio_range=(0.25, 1.),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
local_crop = [dict(global_crop[0], scale=32, crop_ratio_range=(0.08, 0.25)),
              global_crop[1]]
colour = [{{_base_.color_jitter}}, {{_base_.random_grayscale}}]
train_pipeline = [
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1, 2, 1],
        transforms=[
            global_crop + colour + [{{_base_.blur}}],
            global_crop + colour + [{{_base_.weak_blur}},
                                    {{_base_.solarize}}],
            local_crop + colour + [{{_base_.half_blur}}],
            global_crop + [dict(type='RandomCutout', area_range=(0.2, 0.4))] +
            colour + [{{_base_.half_blur}}],
        ],
        view_types=['global', 'global', 'local', 'cutout']),
    dict(type='PackInputs', meta_keys=['view_type']),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='MNIST5k', split='train', pipeline=train_pipeline))

# ----- schedule: 3 epochs (1 warm-up); lr 0.4 x 64 / 256 -----
optim_wrapper = dict(optimizer=dict(lr=0.4 * 64 / 256))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-9,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-3, by_epoch=True,
         begin=1, end=3, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=3)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2))
