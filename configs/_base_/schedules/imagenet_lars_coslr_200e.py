# LARS (momentum 0.9, eta 0.001) for 200 epochs: lr 0.4 x 1024 / 256 = 1.6
# for a total batch of 1024, wd 1.5e-6; BatchNorm and bias parameters get
# no weight decay and no LARS adaptation; 10 linear warm-up epochs from 0,
# then per-iteration cosine to 0.001 x peak; fp16 AMP. (BYOL-style ResNet
# recipes.)
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='LARS', lr=1.6, momentum=0.9, weight_decay=1.5e-6),
    paramwise_cfg=dict(
        custom_keys={
            'bn': dict(decay_mult=0, lars_exclude=True),
            'bias': dict(decay_mult=0, lars_exclude=True),
            'downsample.1': dict(decay_mult=0, lars_exclude=True),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-9,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=1e-3,
        by_epoch=True,
        begin=10,
        end=200,
        convert_to_iter_based=True)
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
auto_scale_lr = dict(base_batch_size=1024)
