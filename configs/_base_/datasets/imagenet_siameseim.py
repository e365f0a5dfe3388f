# SiameseIM views on ImageNet-1k: each view flips the whole image, then takes
# its own RandomResizedCrop, recording box and flip; view 1 gets the
# block-wise mask (118 of 14x14) and view 2 is placed relative to it.
_base_ = 'imagenet_pretrain.py'

image_size = 224
grid_size = 14
num_masking_patches = 118

view_pipeline1 = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomResizedCropWithBox',
        scale=image_size,
        crop_ratio_range=(0.08, 1.),
        interpolation='bicubic',
        backend='pillow'),
    dict(
        type='RandomApply',
        transforms=[
            dict(
                type='ColorJitter',
                brightness=0.4,
                contrast=0.4,
                saturation=0.2,
                hue=0.1)
        ],
        prob=0.8),
    dict(
        type='RandomGrayscale',
        prob=0.2,
        keep_channels=True,
        channel_weights=(0.114, 0.587, 0.2989)),
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=1.0),
]
view_pipeline2 = view_pipeline1[:4] + [
    dict(
        type='GaussianBlur',
        magnitude_range=(0.1, 2.0),
        magnitude_std='inf',
        prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
