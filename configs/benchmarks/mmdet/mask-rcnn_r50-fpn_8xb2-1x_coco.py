# COCO Mask R-CNN R50-FPN 1x (mmdet's recipe) with the ResNet-50 initialised
# from an mmsiam pretraining checkpoint (MULAN ResNet methods), loaded
# strictly from `backbone.*` weights.
#   tools/benchmarks/mmdet/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(
    imports=['mmsiam', 'mmsiam.runtime'], allow_failed_imports=False)

pretrained = None  # set by tools/benchmarks/mmdet/dist_train.sh
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmsiam.StrictPretrainedResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))
