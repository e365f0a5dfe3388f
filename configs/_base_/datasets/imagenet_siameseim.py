# SiameseIM views on ImageNet-1k: each view flips the whole image, then takes
# its own RandomResizedCrop, recording box and flip; view 1 gets the
# block-wise mask (118 of 14x14) and view 2 is placed relative to it.
# The image is an RGB PIL image from ToPIL to each view's ToNumpy, as in the
# official torchvision pipeline: one array -> PIL conversion per image and
# one back per view (the PIL* transforms, pil_transforms.py).
_base_ = ['imagenet_pretrain.py', 'byol_photometric.py']

image_size = 224
grid_size = 14
num_masking_patches = 118

view_pipeline1 = [
    dict(type='PILRandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomResizedCropWithBox',
        scale=image_size,
        crop_ratio_range=(0.08, 1.),
        interpolation='bicubic',
        backend='pillow'),
    {{_base_.color_jitter}},
    {{_base_.pil_random_grayscale}},
    {{_base_.blur}},
    dict(type='ToNumpy', to_bgr=True),
]
view_pipeline2 = view_pipeline1[:4] + [
    {{_base_.weak_blur}},
    {{_base_.solarize}},
    dict(type='ToNumpy', to_bgr=True),
]
train_pipeline = [
    dict(type='LoadImageOrSkip'),
    dict(type='ToPIL', to_rgb=True),
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1],
        transforms=[view_pipeline1, view_pipeline2],
        keys=['flip', 'crop_box', 'crop_source_width']),
    dict(type='SiameseIMRelativeGeometry'),
    dict(
        type='BlockwiseMaskGenerator',
        input_size=grid_size,
        num_masking_patches=num_masking_patches,
        min_num_patches=16,
        min_aspect=0.3,
        fixed_num_masking_patches=True),
    dict(type='PackInputs', algorithm_keys=['relative_geometry']),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
