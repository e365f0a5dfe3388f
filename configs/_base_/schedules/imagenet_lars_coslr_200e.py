# LARS with MoCo v3's update (momentum 0.9, eta 0.001) for 200 epochs: lr
# 0.4 x 1024 / 256 = 1.6 for a total batch of 1024, wd 1.5e-6; parameters of
# one dimension (BatchNorm, biases) get no weight decay and no LARS
# adaptation (LARSMoCoV3 does that itself); 10 linear warm-up epochs from 0,
# then per-iteration cosine to 0.001 x peak; fp16 AMP. (BYOL-style ResNet
# recipes.)
_base_ = 'warmup10_coslr_200e.py'

optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    # frozen modules (the target branch) logged in one line
    constructor='FrozenSummaryOptimWrapperConstructor',
    loss_scale='dynamic',
    optimizer=dict(
        type='LARSMoCoV3', lr=1.6, momentum=0.9, weight_decay=1.5e-6,
        eta=0.001))

auto_scale_lr = dict(base_batch_size=1024)
