# MULAN-BYOL on ResNet-50, 800 epochs with 2 global + 4 local + 1 cutout
# views, 8 GPUs x 128 = 1024 images; the 200-epoch recipe otherwise.
_base_ = 'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py'

model = dict(num_views=(2, 4, 1))
train_dataloader = dict(
    batch_size=128,
    dataset=dict(dataset=dict(pipeline=[
        dict(type='LoadImageOrSkip'),
        dict(
            type='MultiViewWithKeys',
            num_views=[1, 1, 4, 1],
            transforms=[
                {{_base_.global_view1}}, {{_base_.global_view2}},
                {{_base_.local_view}}, {{_base_.cutout_view}}
            ],
            view_types=['global', 'global', 'local', 'cutout']),
        dict(type='PackInputs', meta_keys=['view_type']),
    ])))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-3, by_epoch=True,
         begin=10, end=800, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=800)
