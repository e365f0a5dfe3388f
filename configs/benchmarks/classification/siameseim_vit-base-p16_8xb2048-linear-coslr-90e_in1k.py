# ImageNet-1k linear probe of a SiameseIM ViT-B/16 (the paper's protocol):
# frozen encoder, mean of the patch tokens -> a fresh LayerNorm kept frozen
# -> BatchNorm1d(affine=False, eps 1e-6) -> linear classifier
# (trunc-normal 0.01); LARS (MoCo v3's update) lr 0.1 x 16384 / 256 = 6.4 at
# batch 16384 (8 GPUs x 2048), momentum 0.9, no weight decay, biases outside
# LARS; 10 warm-up epochs (lr = peak x t / W) then cosine to 0, 90 epochs;
# fp16 AMP on GPUs (bf16 autocast on CPUs). mmpretrain's MAE linear-probe config with mmsiam's
# strictly loaded ViT.
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'mmpretrain::mae/benchmarks/vit-base-p16_8xb2048-linear-coslr-90e_in1k.py'
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)

pretrained = None  # set by tools/benchmarks/classification/dist_train.sh
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmsiam.StrictPretrainedViT',
        arch='b',
        img_size=224,
        patch_size=16,
        frozen_stages=12,  # all blocks, and the pooled-feature norm ln2
        out_type='avg_featmap',
        final_norm=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

optim_wrapper = dict(
    type='mmsiam.AnyDeviceAmpOptimWrapper',
    optimizer=dict(type='mmsiam.LARSMoCoV3', eta=0.001),
    # the frozen encoder left out of the optimizer and logged in one line
    # (paramwise options make mmengine's constructor look at each tensor;
    # LARSMoCoV3 would leave the bias out of LARS by itself)
    constructor='mmsiam.FrozenSummaryOptimWrapperConstructor',
    paramwise_cfg=dict(custom_keys={'bias': dict(lars_exclude=True)}))
param_scheduler = [
    dict(
        type='mmsiam.LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=80,
        by_epoch=True,
        begin=10,
        end=90,
        eta_min=0.0,
        convert_to_iter_based=True)
]
# lr is given for the total batch 16384 = 8 x 2048; --auto-scale-lr
# rescales (mmpretrain's base of 1024 gave 16x the lr).
auto_scale_lr = dict(base_batch_size=16384)

# Bicubic crops for training and evaluation, as published.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='ResizeEdge',
        scale=256,
        edge='short',
        interpolation='bicubic',
        backend='pillow'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
