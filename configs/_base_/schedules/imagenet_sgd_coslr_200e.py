# SGD (momentum 0.9) for 200 epochs, SimSiam-style: lr 0.05 x 512 / 256 =
# 0.1 for a total batch of 512, wd 1e-4 on every parameter, per-epoch
# cosine to 0.001 x peak without warm-up; parameters named `predictors`
# keep the peak lr (FixedPeakLRHook resets them to their initial lr every
# epoch, so they follow --auto-scale-lr). fp16 AMP.
optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    # frozen modules (the target branch) logged in one line
    constructor='FrozenSummaryOptimWrapperConstructor',
    loss_scale='dynamic',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'predictors': dict(fix_lr=True)}))

param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=1e-3,
        by_epoch=True,
        begin=0,
        end=200)
]
custom_hooks = [
    dict(type='FixedPeakLRHook')
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
auto_scale_lr = dict(base_batch_size=512)
