# MULAN with MoCo v3 on ResNet-50: the BYOL model (EMA 0.996 -> 1) with
# BatchNorm (no affine) at the end of the projector and of the predictors,
# and InfoNCE per pair against the targets of all GPUs (temperature 1.0,
# x 2T).
_base_ = 'mulan-byol_resnet50.py'

model = dict(
    neck=dict(with_last_bn=True, with_last_bn_affine=False),
    head=dict(
        predictor=dict(with_last_bn=True, with_last_bn_affine=False),
        loss=dict(_delete_=True, type='MoCoV3PairLoss', temperature=1.0)))
