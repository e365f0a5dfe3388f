# MULAN-MoCo v3 on the built-in data in about a minute on a CPU: the
# BYOL demo (same sizes, views and LARS schedule) with MoCo v3's BN-ended
# projector and predictors and InfoNCE pair loss (temperature 1.0).
_base_ = 'mulan-byol_resnet18-w16_1xb64-coslr-3e_mnist5k_demo.py'

model = dict(
    neck=dict(with_last_bn=True, with_last_bn_affine=False),
    head=dict(
        predictor=dict(with_last_bn=True, with_last_bn_affine=False),
        loss=dict(_delete_=True, type='MoCoV3PairLoss', temperature=1.0)))
