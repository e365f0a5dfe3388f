# AdamW + fp16 AMP + grad clip 1.0; linear warm-up from 0 for 40 epochs
# (lr = peak x t / W at iteration t of W), then per-iteration cosine to 0
# over 1600 epochs. Method configs set lr
# (from their base lr and total batch), betas and paramwise options.
optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    # frozen modules (the target branch) logged in one line
    constructor='FrozenSummaryOptimWrapperConstructor',
    loss_scale='dynamic',
    # fused: one kernel for all parameters (CPU and CUDA), not a loop
    optimizer=dict(
        type='AdamW', lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05,
        fused=True),
    clip_grad=dict(max_norm=1.0))

param_scheduler = [
    dict(
        type='LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=40,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=1560,
        eta_min=0.,
        by_epoch=True,
        begin=40,
        end=1600,
        convert_to_iter_based=True)
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=1600)
