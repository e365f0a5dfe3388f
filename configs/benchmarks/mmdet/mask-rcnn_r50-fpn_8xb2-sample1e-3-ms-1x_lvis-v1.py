# LVIS v1 Mask R-CNN R50-FPN (mmdet's recipe: 1203 classes, repeat-factor
# sampling 1e-3, multi-scale 1x, federated LVIS evaluation) with the
# ResNet-50 of an mmsiam pretraining checkpoint, loaded strictly.
#   tools/benchmarks/mmdet/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'mmdet::lvis/mask-rcnn_r50_fpn_sample1e-3_ms-1x_lvis-v1.py'
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
