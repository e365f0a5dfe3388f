# MULAN with BYOL on a DINO-style ViT-S/16: cls token after the final LN,
# drop path 0.1 (online only), projector 384 -> 4096 -> 4096 -> 256,
# predictors 256 -> 4096 -> 256, EMA target 0.998 -> 1. Views of one type
# and size share a backbone forward (no BatchNorm in the encoder).
_base_ = 'mulan-byol_resnet50.py'

model = dict(
    base_momentum=0.002,
    batch_views=True,
    backbone=dict(
        _delete_=True,
        type='DINOViT',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1),
    neck=dict(
        in_channels=384,
        hid_channels=4096,
        out_channels=256,
        num_layers=3,
        with_avg_pool=False))
