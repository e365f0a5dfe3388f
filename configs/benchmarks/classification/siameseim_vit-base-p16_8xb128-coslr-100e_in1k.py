# ImageNet-1k fine-tuning of a SiameseIM ViT-B/16 (the paper's recipe):
# mean of the patch tokens -> LayerNorm (fc_norm, `ln2`) -> linear head
# (trunc-normal 2e-5); drop path 0.1; the position embedding stays fixed
# (patch embedding trainable); AdamW (0.9, 0.999) lr 2.5e-4 x 1024 / 256,
# wd 0.05 (none on norms, biases, cls token, position embedding), layer
# decay 0.65; 100 epochs, 5 warm-up (lr = peak x t / W), cosine to 1e-6 x
# each layer's scale; RandAugment m9-mstd0.5, random erasing 0.25, mixup
# 0.8, cutmix 1.0, label smoothing 0.1; batch 1024 = 8 x 128; fp16 AMP with
# torch's dynamic GradScaler on GPUs (bf16 autocast on CPUs), no gradient
# clipping. mmpretrain's MAE fine-tuning config with mmsiam's strictly
# loaded ViT.
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'mmpretrain::mae/benchmarks/vit-base-p16_8xb128-coslr-100e_in1k.py'
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)

pretrained = None  # set by tools/benchmarks/classification/dist_train.sh
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmsiam.StrictPretrainedViT',
        arch='b',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='avg_featmap',
        final_norm=False,
        freeze_pos_embed=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

optim_wrapper = dict(
    type='mmsiam.AnyDeviceAmpOptimWrapper',
    loss_scale='dynamic',
    optimizer=dict(lr=2.5e-4 * 1024 / 256))
param_scheduler = [
    dict(
        type='mmsiam.LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=5,
        convert_to_iter_based=True),
    # the floor of each layer-decay group is 1e-6 x its scale
    dict(
        type='mmsiam.LayerwiseCosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=5,
        end=100,
        convert_to_iter_based=True)
]
# lr is given for the total batch 1024 = 8 x 128; --auto-scale-lr rescales.
# the official fine-tuning reports the maximum val top-1 over the epochs:
# the best checkpoint's line in the log, beside the last epoch's
default_hooks = dict(checkpoint=dict(save_best='auto'))
auto_scale_lr = dict(base_batch_size=1024)
