# SiameseIM ViT-B/16, 400 epochs: the 1600-epoch recipe with a shorter
# cosine (40 warm-up epochs kept).
_base_ = 'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py'

param_scheduler = [
    dict(
        type='LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=40,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=360,
        eta_min=0.,
        by_epoch=True,
        begin=40,
        end=400,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=400)
