# ConMIM views on ImageNet-1k: one shared flip + RandomResizedCrop (224,
# bicubic), then two photometric branches of that crop: the student view is
# the crop as is (weak) and gets the SimMIM cell mask (32-px cells, 75%, i.e.
# 148 of 14x14 patches); the teacher view is colour-augmented (strong).
_base_ = 'imagenet_pretrain.py'

image_size = 224
patch_size = 16

teacher_augmentation = [
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
        prob=0.1),
    dict(type='Solarize', thr=128, prob=0.2),
]
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(
        type='RandomResizedCrop',
        scale=image_size,
        crop_ratio_range=(0.08, 1.),
        interpolation='bicubic',
        backend='pillow'),
    # [student: no further augmentation, teacher: strong augmentation]
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1],
        transforms=[[], teacher_augmentation]),
    dict(
        type='SimMIMCellMaskGenerator',
        input_size=image_size,
        mask_patch_size=32,
        model_patch_size=patch_size,
        mask_ratio=0.75),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64, dataset=dict(pipeline=train_pipeline), drop_last=True)
