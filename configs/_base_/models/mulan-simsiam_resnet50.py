# MULAN with SimSiam on ResNet-50: projector 2048 -> 2048 -> 2048 -> 2048
# (+ BN without affine), predictors 2048 -> 512 -> 2048, loss -cos per
# pair, task weights 0.333; the target is a stop-gradient copy of
# parameters and buffers taken before its forward.
_base_ = 'mulan-byol_resnet50.py'

model = dict(
    base_momentum=1.,
    end_momentum=1.,
    copy_buffers=True,
    neck=dict(
        hid_channels=2048,
        out_channels=2048,
        num_layers=3,
        with_last_bn=True,
        with_last_bn_affine=False),
    head=dict(
        task_weights=(0.333, 0.333, 0.333),
        predictor=dict(in_channels=2048, hid_channels=512, out_channels=2048),
        loss=dict(shift_factor=0., scale_factor=1.)))
