# The SiameseIM recipe on the built-in data (4,000 MNIST digits) in under 3
# minutes on 2 CPU cores. Inherits the paper config and overrides only size,
# data and schedule: a 4-layer 64-d ViT on 64x64 views (8x8 patches of 8
# pixels, 38 masked), 8 epochs. AMP runs as bfloat16 autocast without CUDA.
_base_ = [
    'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py',
    '../_base_/evaluation/knn_mnist5k.py',
]

# ----- size -----
image_size = 64
patch_size = 8
grid_size = image_size // patch_size
embed_dims = 64
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=4,
            num_heads=2,
            feedforward_channels=4 * embed_dims),
        img_size=image_size,
        patch_size=patch_size),
    neck=dict(in_channels=embed_dims, embed_dims=embed_dims, num_heads=2),
    head=dict(
        embed_dims=embed_dims, grid_size=grid_size, depth=2, num_heads=2))

# ----- data: MNIST5k digits, the paper's views at 64 pixels -----
num_masking_patches = 38  # 60% of 64, as 118 of 196
view_pipeline1 = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomResizedCropWithBox',
        scale=image_size,
        crop_ratio_range=(0.08, 1.),
        interpolation='bicubic',
        backend='pillow'),
    dict(
        type='RandomApply',
        transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4)],
        prob=0.8),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=1.0),
]
view_pipeline2 = view_pipeline1[:3] + [
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
train_pipeline = [
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1],
        transforms=[view_pipeline1, view_pipeline2],
        keys=['flip', 'crop_box', 'crop_source_width']),
    dict(type='SiameseIMRelativeGeometry'),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=grid_size,
        num_masking_patches=num_masking_patches,
        min_num_patches=4,
        min_aspect=0.3,
        fixed_num_masking_patches=True),
    dict(type='PackInputs', algorithm_keys=['relative_geometry']),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='SeededDataset',
        dataset=dict(type='MNIST5k', split='train', pipeline=train_pipeline)))

# ----- schedule: 8 epochs (1 warm-up); the paper's peak lr 1e-3 -----
# On MNIST a random ViT is already a fair kNN feature extractor; in this
# short run the kNN top-1 rises slowly above its random-init value.
max_epochs = 8
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-9,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=max_epochs - 1,
        eta_min=0.,
        by_epoch=True,
        begin=1,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=2)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=2),
    val_at_start=dict(type='ValidateAtStartHook'))
# kNN monitor: the online encoder's average-pooled patch tokens, the feature
# of the SiameseIM linear probe (configs/benchmarks/classification).
val_cfg = dict(feature='avg', branch='online')
