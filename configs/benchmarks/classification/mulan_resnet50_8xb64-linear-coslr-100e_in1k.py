# ImageNet-1k linear probe of a MULAN ResNet-50 (the paper's protocol,
# eval_linear.py --normalize-features): frozen encoder in eval mode, global
# average pool -> each of the 2048 dimensions standardised with the mean and
# std (+1e-8) of the val images' features, fitted once before training
# (FeatureStandardizationHook) -> linear classifier (normal 0.01, bias 0);
# SGD momentum 0.9, lr 0.005 (not scaled with the batch), no weight decay,
# batch 512 = 8 x 64, 100 epochs, cosine to 0 stepped once per epoch; train
# RandomResizedCrop 224 (0.08-1, bilinear) + flip, val Resize 256 /
# CenterCrop 224; fp16 AMP on GPUs (bf16 autocast on CPUs). The paper
# reports the best val top-1 over the epochs (the best checkpoint's line
# in the log); the last epoch's is the other number to give, and
# custom_hooks=[dict(type='mmsiam.FeatureStandardizationHook',
# split='train')] the variant that does not look at the val images.
# mmpretrain's MoCo v2 linear-probe config with mmsiam's strictly loaded
# ResNet.
#   python tools/model_converters/extract_backbone.py MULAN.pth BACKBONE.pth
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'mmpretrain::mocov2/benchmarks/resnet50_8xb32-linear-steplr-100e_in1k.py'
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)

pretrained = None  # set by tools/benchmarks/classification/dist_train.sh
model = dict(
    backbone=dict(
        type='mmsiam.StrictPretrainedResNet',
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    head=dict(
        type='mmsiam.StandardizedLinearClsHead',
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.)))
custom_hooks = [dict(type='mmsiam.FeatureStandardizationHook', split='val')]

train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=64)
test_dataloader = val_dataloader

optim_wrapper = dict(
    _delete_=True,
    type='mmsiam.AnyDeviceAmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.),
    # the frozen encoder left out of the optimizer, logged in one line
    constructor='mmsiam.FrozenSummaryOptimWrapperConstructor')
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, eta_min=0.)
]
train_cfg = dict(max_epochs=100, val_interval=1)
default_hooks = dict(
    checkpoint=dict(
        interval=10, max_keep_ckpts=1, save_best='accuracy/top1',
        rule='greater'))
# lr 0.005 is the official value for the total batch 512, not scaled with
# it; --auto-scale-lr would rescale it linearly from 512.
auto_scale_lr = dict(base_batch_size=512)
