# The ConMIM recipe on the built-in data (4,000 MNIST digits) in minutes on
# a CPU. Inherits the paper config and overrides only size, data and
# schedule: a 4-block 96-d BEiT ViT on 64x64 crops (8x8 patches of 8
# pixels), a 512-d projector to 128-d, SimMIM cells of 16 pixels (48 of 64
# patches masked), 4 epochs, fp32 (without CUDA the paper's AMP is bf16
# autocast, slower than fp32 for tiny ViTs on the CPU: docs/small_scale.md,
# cause 8).
_base_ = [
    'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py',
    '../_base_/evaluation/knn_mnist5k.py',
]

# ----- size -----
image_size = 64
patch_size = 8
embed_dims = 96
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=4,
            num_heads=3,
            feedforward_channels=4 * embed_dims),
        img_size=image_size,
        patch_size=patch_size),
    neck=dict(in_channels=embed_dims, hid_channels=512, out_channels=128))

# ----- data: MNIST5k digits, the paper's views at 64 pixels -----
train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomResizedCrop',
        scale=image_size,
        crop_ratio_range=(0.08, 1.),
        interpolation='bicubic',
        backend='pillow'),
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1],
        transforms=[[], {{_base_.teacher_augmentation}}]),
    dict(
        type='SimMIMCellMaskGenerator',
        input_size=image_size,
        mask_patch_size=16,
        model_patch_size=patch_size,
        mask_ratio=0.75),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    _delete_=True,
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type='SeededDataset',
        dataset=dict(type='MNIST5k', pipeline=train_pipeline)))

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='FrozenSummaryOptimWrapperConstructor',
    optimizer={{_base_.optim_wrapper.optimizer}},
    clip_grad={{_base_.optim_wrapper.clip_grad}},
    paramwise_cfg={{_base_.optim_wrapper.paramwise_cfg}})

# ----- schedule: 4 epochs (1 warm-up) -----
max_epochs = 4
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-9,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True,
         begin=1, end=max_epochs, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(interval=1, max_keep_ckpts=2),
    val_at_start=dict(type='ValidateAtStartHook'))
# kNN monitor: the teacher (the exported encoder), mean patch token.
val_cfg = dict(feature='avg', branch='target')
