# BYOL's photometric augmentations, the pieces the method pipelines share:
# inherit this file next to a dataset base and use `{{_base_.color_jitter}}`
# etc. in the view pipelines.
# The PIL* transforms take a BGR array (one PIL round trip) or, between
# ToPIL(to_rgb=True) and ToNumpy(to_bgr=True), a PIL image (none): the same
# pixels either way (mmsiam/datasets/transforms/pil_transforms.py).
# mmpretrain's ColorJitter with one PIL round trip instead of four (the
# view pipelines' largest cost, docs/performance.md).
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
# mmcv's grey on BGR arrays, weighing the channels as MULAN's official
# grey of float RGB images (0.2989 R + 0.587 G + 0.114 B).
random_grayscale = dict(
    type='RandomGrayscale',
    prob=0.2,
    keep_channels=True,
    channel_weights=(0.114, 0.587, 0.2989))
# torchvision's grey of PIL images (PIL's rounded ITU-R 601-2 luma), the
# official SiameseIM and ConMIM one.
pil_random_grayscale = dict(
    type='PILRandomGrayscale', prob=0.2, keep_channels=True)
# PIL Gaussian blur, radius ~ U(0.1, 2.0), with probability 1, 0.5 or 0.1.
blur = dict(
    type='PILGaussianBlur',
    magnitude_range=(0.1, 2.0),
    magnitude_std='inf',
    prob=1.0)
half_blur = dict(blur, prob=0.5)
weak_blur = dict(blur, prob=0.1)
solarize = dict(type='PILSolarize', thr=128, prob=0.2)
