# AdamW for 200 epochs (MULAN's ViT recipe): betas (0.9, 0.98), lr 3e-4 x
# 1024 / 256 = 1.2e-3 for a total batch of 1024, wd 0.1 except on 1-D
# parameters (the cls token and position embedding keep it), grad clip 0.5,
# 10 linear warm-up epochs from 0, then per-iteration cosine to 0.001 x
# peak; fp16 AMP.
_base_ = 'warmup10_coslr_200e.py'

optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    # frozen modules (the target branch) logged in one line
    constructor='FrozenSummaryOptimWrapperConstructor',
    loss_scale='dynamic',
    # fused: one kernel for all parameters (CPU and CUDA), not a loop
    optimizer=dict(type='AdamW', lr=1.2e-3, betas=(0.9, 0.98),
                   weight_decay=0.1, fused=True),
    clip_grad=dict(max_norm=0.5),
    paramwise_cfg=dict(flat_decay_mult=0.))

auto_scale_lr = dict(base_batch_size=1024)
