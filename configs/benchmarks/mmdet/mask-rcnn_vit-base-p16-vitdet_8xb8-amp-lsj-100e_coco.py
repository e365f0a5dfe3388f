# COCO Mask R-CNN with a ViTDet ViT-B/16 backbone initialised from an mmsiam
# pretraining checkpoint (SiameseIM / ConMIM): LSJ 1024, 100 epochs
# (184,375 iterations at batch 64 = 8 GPUs x 8), AdamW with layer-wise lr
# decay 0.7, AMP. The detectron2 ViTDet-B recipe; mmdet's own Mask R-CNN,
# LSJ pipeline, CocoDataset and CocoMetric, mmpretrain's LN2d, with mmsiam's
# ViTDet, SimpleFPN and layer-decay constructor.
#
# Pass the checkpoint (a `backbone.*` file from
# tools/model_converters/extract_backbone.py):
#   tools/benchmarks/mmdet/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',
]
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)

pretrained = None  # set by tools/benchmarks/mmdet/dist_train.sh
image_size = (1024, 1024)
# mmpretrain's LayerNorm over the channels of a feature map, ViTDet's eps.
norm_cfg = dict(type='mmpretrain.LN2d', eps=1e-6, requires_grad=True)

model = dict(
    data_preprocessor=dict(
        pad_size_divisor=32,
        batch_augments=[
            dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)
        ]),
    backbone=dict(
        _delete_=True,
        type='mmsiam.ViTDet',
        arch='b',
        img_size=image_size[0],
        patch_size=16,
        pretrain_img_size=224,
        drop_path_rate=0.1,
        window_size=14,
        window_block_indexes=(0, 1, 3, 4, 6, 7, 9, 10),
        use_rel_pos=True,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='mmsiam.SimpleFPN',
        backbone_channel=768,
        in_channels=[192, 384, 768, 768],
        out_channels=256,
        num_outs=5,
        norm_cfg=norm_cfg),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead',
            conv_out_channels=256,
            norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

# LSJ: flip, random resize (0.1-2.0 of 1024), crop 1024, pad to 1024.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomResize',
        scale=image_size,
        ratio_range=(0.1, 2.0),
        keep_ratio=True),
    dict(
        type='RandomCrop',
        crop_type='absolute_range',
        crop_size=image_size,
        recompute_bbox=True,
        allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                   'scale_factor'))
]
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    dataset=dict(
        _delete_=True,
        type='CocoDataset',
        data_root='data/coco/',
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# 100 epochs of COCO at batch 64 = 184,375 iterations.
max_iters = 184375
interval = 5000
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=interval)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
         end=250),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[163889, 177546],
        gamma=0.1)
]

# AdamW, layer decay 0.7 over the 12 blocks; no weight decay on norms and
# the position embedding. mmsiam's AnyDeviceAmpOptimWrapper is mmengine's
# AmpOptimWrapper on GPUs (and bf16 autocast on a CPU).
optim_wrapper = dict(
    _delete_=True,
    type='mmsiam.AnyDeviceAmpOptimWrapper',
    constructor='mmsiam.LayerDecayOptimWrapperConstructor',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    paramwise_cfg=dict(
        layer_decay_rate=0.7,
        norm_decay_mult=0.,
        custom_keys={'pos_embed': dict(decay_mult=0.)}))

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, save_last=True,
        interval=interval, max_keep_ckpts=3))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
auto_scale_lr = dict(base_batch_size=64)
