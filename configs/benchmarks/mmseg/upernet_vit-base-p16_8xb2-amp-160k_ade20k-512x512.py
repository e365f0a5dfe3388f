# ADE20k UperNet with a ViT-B/16 initialised from an mmsiam pretraining
# checkpoint: mmseg's MAE recipe (512x512 crops, 160k iterations at batch
# 16 = 8 GPUs x 2, AdamW lr 1e-4, wd 0.05, layer decay 0.65, slide test),
# with mmpretrain's ViT (features of blocks 3, 5, 7, 11) loaded strictly
# from `backbone.*` weights instead of mmseg's MAE backbone.
#
#   tools/benchmarks/mmseg/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py'
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)

pretrained = None  # set by tools/benchmarks/mmseg/dist_train.sh
model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmsiam.StrictPretrainedViT',
        arch='b',
        img_size=512,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='featmap',
        out_indices=(3, 5, 7, 11),
        final_norm=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

# AdamW with layer-wise lr decay 0.65 over the 12 blocks; no weight decay
# on norms, biases, the position embedding and the cls token. mmsiam's
# AnyDeviceAmpOptimWrapper: fp16 on GPUs (mmseg's `fp16` key is not read by
# mmengine).
optim_wrapper = dict(
    _delete_=True,
    type='mmsiam.AnyDeviceAmpOptimWrapper',
    constructor='mmsiam.LayerDecayOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        layer_decay_rate=0.65,
        flat_decay_mult=0.,
        custom_keys={
            'pos_embed': dict(decay_mult=0.),
            'cls_token': dict(decay_mult=0.)
        }))
auto_scale_lr = dict(base_batch_size=16)
