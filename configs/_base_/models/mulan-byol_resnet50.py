# MULAN with BYOL on ResNet-50: projector 2048 -> 4096 -> 256, one predictor
# 256 -> 4096 -> 256 per view type (global, local, cutout), loss 2 - 2 cos
# per (view, global target) pair, task weights 1, EMA target 0.996 -> 1
# updated before its forward. BatchNorm per GPU (no SyncBN).
model = dict(
    type='MULAN',
    base_momentum=0.004,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        zero_init_residual=False,
        norm_cfg=dict(type='BN')),
    neck=dict(
        type='NonLinearNeck',
        in_channels=2048,
        hid_channels=4096,
        out_channels=256,
        num_layers=2,
        with_bias=False,
        with_last_bn=False,
        with_last_bias=True,
        with_avg_pool=True,
        norm_cfg=dict(type='BN1d')),
    head=dict(
        type='MultiTaskPredictorHead',
        tasks=('global', 'local', 'cutout'),
        task_weights=(1., 1., 1.),
        predictor=dict(
            type='NonLinearNeck',
            in_channels=256,
            hid_channels=4096,
            out_channels=256,
            num_layers=2,
            with_bias=False,
            with_last_bn=False,
            with_last_bias=True,
            with_avg_pool=False,
            norm_cfg=dict(type='BN1d')),
        loss=dict(
            type='CosineSimilarityLoss', shift_factor=2., scale_factor=2.)))
