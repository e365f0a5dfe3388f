# MULAN views of the built-in MNIST5k digits (28 pixels, upsampled), the
# ImageNet recipe at a smaller size: 2 global and 1 cutout view of 64
# pixels, `num_local_views` local views of 32 pixels.
_base_ = ['mnist5k_pretrain.py', 'byol_photometric.py']

num_local_views = 2
global_crop = [
    dict(
        type='RandomResizedCrop',
        scale=64,
        crop_ratio_range=(0.25, 1.),
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
]
local_crop = [
    dict(global_crop[0], scale=32, crop_ratio_range=(0.08, 0.25)),
    global_crop[1]
]
colour = [{{_base_.color_jitter}}, {{_base_.random_grayscale}}]
# the transforms of each view type (the MULAN ablations pick among them)
global_1_view = global_crop + colour + [{{_base_.blur}}]
global_2_view = global_crop + colour + [{{_base_.weak_blur}},
                                        {{_base_.solarize}}]
local_view = local_crop + colour + [{{_base_.half_blur}}]
cutout_view = global_crop + [dict(type='RandomCutout',
                                  area_range=(0.2, 0.4))
                             ] + colour + [{{_base_.half_blur}}]
train_pipeline = [
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1, num_local_views, 1],
        transforms=[global_1_view, global_2_view, local_view, cutout_view],
        view_types=['global', 'global', 'local', 'cutout']),
    dict(type='PackInputs', meta_keys=['view_type']),
]
train_dataloader = dict(
    drop_last=True, dataset=dict(dataset=dict(pipeline=train_pipeline)))
