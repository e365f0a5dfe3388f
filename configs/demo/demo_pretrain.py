# `make demo`: BYOL (mmpretrain's paper config) shrunk to a ResNet-18 on the
# built-in MNIST5k digits at 32x32; trains in about 2 minutes on 2 CPU cores.
# It inherits the paper config and overrides only size, data and schedule.
# Once a seed mmsiam method lands, this file inherits that method's _demo
# config instead.
_base_ = [
    'mmpretrain::byol/byol_resnet50_16xb256-coslr-200e_in1k.py',
]

default_scope = 'mmsiam'

# ----- size: ResNet-18, 512 -> 512 -> 128 projector/predictor, plain BN -----
model = dict(
    backbone=dict(depth=18, norm_cfg=dict(type='BN')),
    neck=dict(
        in_channels=512,
        hid_channels=512,
        out_channels=128,
        norm_cfg=dict(type='BN1d')),
    head=dict(
        predictor=dict(
            in_channels=128,
            hid_channels=512,
            out_channels=128,
            norm_cfg=dict(type='BN1d'))))

# ----- data: 32x32 views of the digits (BYOL's asymmetric recipes) -----
image_size = 32
view_pipeline1 = [
    dict(
        type='RandomResizedCrop',
        scale=image_size,
        crop_ratio_range=(0.5, 1.0),
        interpolation='bicubic',
        backend='pillow'),
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)],
        prob=0.8),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 1.0),
        magnitude_std='inf',
        prob=0.5),
]
view_pipeline2 = view_pipeline1[:2] + [
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 1.0),
        magnitude_std='inf',
        prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
train_pipeline = [
    dict(
        type='MultiView',
        num_views=[1, 1],
        transforms=[view_pipeline1, view_pipeline2]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    # Scoped: the inherited train_cfg carries `_scope_='mmpretrain'`, and the
    # loop builds its dataloader in that scope.
    dataset=dict(type='mmsiam.MNIST5k', split='train',
                 pipeline=train_pipeline))

# ----- schedule: 4 epochs, LARS lr scaled to batch 64 (4.8 x 64 / 4096) -----
optim_wrapper = dict(optimizer=dict(lr=4.8 * 64 / 4096))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=3,
        eta_min=0.,
        by_epoch=True,
        begin=1,
        end=4,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=4)
auto_scale_lr = dict(base_batch_size=64)

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=1, max_keep_ckpts=2))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
randomness = dict(seed=0, diff_rank_seed=True)
