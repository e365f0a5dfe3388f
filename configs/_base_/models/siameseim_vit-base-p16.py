# SiameseIM ViT-B/16: encoder (visible view-1 patches), 2-block projector and
# 4-block predictor with BatchNorm over tokens, EMA target 0.995 -> 1.
model = dict(
    type='SiameseIM',
    base_momentum=0.005,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(type='SiameseIMViT', arch='b', img_size=224, patch_size=16),
    neck=dict(
        type='SiameseIMProjector',
        in_channels=768,
        embed_dims=768,
        depth=2,
        num_heads=16,
        mlp_ratio=4.),
    head=dict(
        type='SiameseIMHead',
        embed_dims=768,
        grid_size=14,
        depth=4,
        num_heads=16,
        mlp_ratio=4.,
        loss=dict(type='UniGradLoss', neg_weight=0.02)))
