# 200 epochs: 10 linear warm-up epochs from 0 (lr = peak x t / W at
# iteration t of W, the peak at W), then per-iteration cosine to 0.001 x the
# peak lr (MULAN's LARS and AdamW recipes).
param_scheduler = [
    dict(
        type='LinearWarmupLR',
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min_ratio=1e-3,
        by_epoch=True,
        begin=10,
        end=200,
        convert_to_iter_based=True)
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)
