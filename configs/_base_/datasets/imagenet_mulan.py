# MULAN views on ImageNet-1k, in the order the model expects: 2 global
# (224, scale 0.25-1, BYOL's two colour recipes), `num_local_views` local
# (96, scale 0.08-0.25) and 1 cutout view (224, scale 0.25-1, one rectangle
# of 20-40% of the crop filled with the mean before colour jitter). Every
# view takes its own crop and flip.
_base_ = ['imagenet_pretrain.py', 'byol_photometric.py']

num_local_views = 2


global_crop = [
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.25, 1.),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
local_crop = [
    dict(
        type='RandomResizedCrop',
        scale=96,
        crop_ratio_range=(0.08, 0.25),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
colour = [{{_base_.color_jitter}}, {{_base_.random_grayscale}}]
global_view1 = global_crop + colour + [{{_base_.blur}}]
global_view2 = global_crop + colour + [
    {{_base_.weak_blur}}, {{_base_.solarize}}
]
local_view = local_crop + colour + [{{_base_.half_blur}}]
cutout_view = global_crop + [
    dict(type='RandomCutout', area_range=(0.2, 0.4))
] + colour + [{{_base_.half_blur}}]

train_pipeline = [
    dict(type='LoadImageOrSkip'),
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1, num_local_views, 1],
        transforms=[global_view1, global_view2, local_view, cutout_view],
        view_types=['global', 'global', 'local', 'cutout']),
    dict(type='PackInputs', meta_keys=['view_type']),
]
train_dataloader = dict(
    batch_size=256,
    dataset=dict(dataset=dict(pipeline=train_pipeline)),
    drop_last=True)
