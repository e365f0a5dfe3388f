# ConMIM views on ImageNet-1k: one shared flip + RandomResizedCrop (224,
# bicubic), then two photometric branches of that crop: the student view is
# the crop as is (weak) and gets the SimMIM cell mask (32-px cells, 75%, i.e.
# 148 of 14x14 patches); the teacher view is colour-augmented (strong).
_base_ = ['imagenet_pretrain.py', 'byol_photometric.py']

image_size = 224
patch_size = 16

teacher_augmentation = [
    {{_base_.color_jitter}},
    {{_base_.pil_random_grayscale}},
    {{_base_.weak_blur}},
    {{_base_.solarize}},
]
train_pipeline = [
    dict(type='LoadImageOrSkip'),
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
    batch_size=64,
    dataset=dict(dataset=dict(pipeline=train_pipeline)),
    drop_last=True)
