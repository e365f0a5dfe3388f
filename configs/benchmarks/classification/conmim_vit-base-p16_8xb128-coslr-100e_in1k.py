# ImageNet-1k fine-tuning of a ConMIM ViT-B/16 teacher (the paper follows
# BEiT): one relative position bias table per block (the shared pretraining
# table copied into each), mean of the patch tokens -> LayerNorm (fc_norm,
# `ln2`) -> linear head (init x0.001: trunc-normal 2e-5); drop path 0.1;
# AdamW (0.9, 0.999) lr 4e-3 for 1024 = 8 x 128, wd 0.05 (none on norms,
# biases, q/v biases, layer scales, cls token), layer decay 0.65; 100
# epochs, 20 warm-up (BEiT's linspace from 0: the peak at iteration W - 1),
# cosine to 1e-6 x each layer's scale; RandAugment m9-mstd0.5, random
# erasing 0.25, mixup 0.8, cutmix 1.0, label smoothing 0.1; ImageNet
# mean/std as in pretraining; fp16 with a dynamic loss scale from 2^7,
# raised after 128 clean steps (DeepSpeed's settings of the official run) on
# GPUs, bf16 autocast on CPUs; no gradient clipping. mmpretrain's BEiT fine-tuning config with mmsiam's strictly
# loaded BEiT ViT.
#   python tools/model_converters/extract_backbone.py CONMIM.pth BACKBONE.pth
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'mmpretrain::beit/benchmarks/beit-base-p16_8xb128-coslr-100e_in1k.py'
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)

data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])

pretrained = None  # set by tools/benchmarks/classification/dist_train.sh
model = dict(
    backbone=dict(
        type='mmsiam.StrictPretrainedBEiTViT',
        layer_scale_init_value=0.1,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    head=dict(init_cfg=[dict(type='TruncNormal', layer='Linear', std=2e-5)]))

optim_wrapper = dict(
    type='mmsiam.AnyDeviceAmpOptimWrapper',
    loss_scale=dict(init_scale=2.**7, growth_interval=128))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-9,
        by_epoch=True,
        begin=0,
        end=20,
        convert_to_iter_based=True),
    # the floor of each layer-decay group is 1e-6 x its scale
    dict(
        type='mmsiam.LayerwiseCosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=20,
        end=100,
        convert_to_iter_based=True)
]
# lr 4e-3 is given for the total batch 1024 = 8 x 128 (the official code
# does not scale it); --auto-scale-lr rescales.
# the official fine-tuning reports the maximum val top-1 over the epochs:
# the best checkpoint's line in the log, beside the last epoch's
default_hooks = dict(checkpoint=dict(save_best='auto'))
auto_scale_lr = dict(base_batch_size=1024)
