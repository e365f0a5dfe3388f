# AdamW for 200 epochs (MULAN's ViT recipe): betas (0.9, 0.98), lr 3e-4 x
# 1024 / 256 = 1.2e-3 for a total batch of 1024, wd 0.1 except on 1-D
# parameters (the cls token and position embedding keep it), grad clip 0.5,
# 10 linear warm-up epochs from 0, then per-iteration cosine to 0.001 x
# peak; fp16 AMP.
optim_wrapper = dict(
    type='AmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='AdamW', lr=1.2e-3, betas=(0.9, 0.98),
                   weight_decay=0.1),
    clip_grad=dict(max_norm=0.5),
    paramwise_cfg=dict(flat_decay_mult=0.))

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
