# BYOL's photometric augmentations, the pieces the method pipelines share:
# inherit this file next to a dataset base and use `{{_base_.color_jitter}}`
# etc. in the view pipelines.
# mmpretrain's ColorJitter with one PIL round trip instead of four (the same
# pixels; the view pipelines' largest cost, docs/performance.md).
color_jitter = dict(
    type='RandomApply',
    transforms=[
        dict(
            type='PILColorJitter',
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
