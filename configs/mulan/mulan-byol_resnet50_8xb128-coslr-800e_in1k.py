# MULAN-BYOL on ResNet-50, 800 epochs with 2 global + 4 local + 1 cutout
# views, 8 GPUs x 128 = 1024 images; the 200-epoch recipe otherwise.
_base_ = 'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py'

# The views are the pipeline's (the model reads the packed view_type):
# MultiViewWithKeys groups global, global, local, cutout; 4 local views.
train_pipeline = _base_.train_pipeline
train_pipeline[1].num_views = [1, 1, 4, 1]
train_dataloader = dict(
    batch_size=128, dataset=dict(dataset=dict(pipeline=train_pipeline)))
param_scheduler = [
    dict(type='LinearWarmupLR', by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min_ratio=1e-3, by_epoch=True,
         begin=10, end=800, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=800)
