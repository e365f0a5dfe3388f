# ImageNet-1k train split for pretraining (labels unused). Layout:
#   data/imagenet/train/n01440764/*.JPEG ... (mmpretrain's ImageNet dataset;
#   meta/train.txt is used when present). Method configs set the pipeline:
#   train_pipeline = [dict(type='LoadImageFromFile'), <views>, <packing>]
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'
data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))

# BYOL's photometric augmentations, the pieces the method pipelines share
# (as `{{_base_.color_jitter}}` etc.).
color_jitter = dict(
    type='RandomApply',
    transforms=[
        dict(
            type='ColorJitter',
            brightness=0.4,
            contrast=0.4,
            saturation=0.2,
            hue=0.1)
    ],
    prob=0.8)
random_grayscale = dict(
    type='RandomGrayscale',
    prob=0.2,
    keep_channels=True,
    channel_weights=(0.114, 0.587, 0.2989))
# PIL Gaussian blur, radius ~ U(0.1, 2.0), with probability 1, 0.5 or 0.1.
blur = dict(
    type='GaussianBlur',
    magnitude_range=(0.1, 2.0),
    magnitude_std='inf',
    prob=1.0)
half_blur = dict(blur, prob=0.5)
weak_blur = dict(blur, prob=0.1)
solarize = dict(type='Solarize', thr=128, prob=0.2)
