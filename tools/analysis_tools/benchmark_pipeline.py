#!/usr/bin/env python
"""Images/s of one data-loader worker for a config's training pipeline.

The pipeline runs, in this one process and one thread (a worker of the
data loader), on real JPEG photographs of ImageNet size: scikit-image's
photos, resized to 500 x 375 (or 375 x 500) and written as quality-90
JPEGs, so every sample pays the decode, all views and the mask as in
training. ``--reference siameseim|mulan`` also times the official codes'
torchvision pipeline, built from ``../shared/specs/`` (SiameseIM: PIL +
torchvision transforms; MULAN: ``torchvision.io`` decode + ``transforms.v2``
tensor ops). ``--official-checkout siameseim=PATH`` (or ``conmim=PATH``)
also times the official code's own pipeline, imported from a git checkout
(``official_checkout.py``): its ``ImageFolder`` PIL loader and data
augmentation, views, ``ToTensor`` / ``Normalize`` and mask. All run on the
same files, in turns of 10 samples (so all meet the same load of a shared
machine), for ``--rounds`` rounds, and each prints the median images/s per
worker and its ratio to mmsiam's; with ``num_workers`` workers on as
many cores, the loader delivers about that many times more.

Example (the table of docs/performance.md)::

    python tools/analysis_tools/benchmark_pipeline.py \\
        configs/siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py \\
        --reference siameseim --images 200 --rounds 5 \\
        --official-checkout siameseim=../Siamese-Image-Modeling
"""
import argparse
import os
import os.path as osp
import random
import sys
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config
from PIL import Image

from mmsiam.datasets import unwrap_seeded
from mmsiam.registry import TRANSFORMS
from mmsiam.runtime import setup_runtime
from mmsiam.utils import cpu_model, register_all_modules

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_vs_official import (add_checkout_argument,  # noqa: E402
                                   check_checkouts, checkout_commit,
                                   parse_checkouts)

PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket', 'hubble_deep_field',
          'immunohistochemistry', 'retina', 'page')
IMAGENET_SIZE = (500, 375)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Images/s of one worker for a training pipeline')
    parser.add_argument('config', help='pretraining config')
    parser.add_argument('--images', type=int, default=200,
                        help='samples timed per round (after 10 warm-up '
                        'samples)')
    parser.add_argument('--reference', choices=['siameseim', 'mulan'],
                        help='also time this official torchvision pipeline')
    parser.add_argument('--rounds', type=int, default=3,
                        help='timed rounds of each pipeline, taken in '
                        'turns; the medians are printed')
    add_checkout_argument(parser, 'the official code\'s pipeline')
    parser.add_argument('--photo-dir', help='JPEGs to use (default: '
                        'scikit-image photos written to a temp dir)')
    args = parser.parse_args(argv)
    args.checkouts = parse_checkouts(parser, args.official_checkout)
    return args


def write_photos(folder: str) -> list:
    """scikit-image's colour photos as ImageNet-size JPEGs in ``folder``."""
    from skimage import data
    paths = []
    for name in PHOTOS:
        image = getattr(data, name)()
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        image = Image.fromarray(image[..., :3])
        size = IMAGENET_SIZE if image.width >= image.height else \
            IMAGENET_SIZE[::-1]
        path = osp.join(folder, f'{name}.JPEG')
        image.resize(size, Image.BICUBIC).save(path, quality=90)
        paths.append(path)
    return paths


def config_pipeline(config: str):
    """The config's training pipeline (loading included) as a callable."""
    cfg = Config.fromfile(config)
    transforms = [TRANSFORMS.build(t) for t in unwrap_seeded(
        cfg.train_dataloader.dataset).pipeline]

    def run(path):
        results = dict(img_path=path)
        for transform in transforms:
            results = transform(results)
        return results

    return run


def siameseim_reference():
    """SiameseIM's official views (spec section 2): per view, PIL decode,
    whole-image flip, RandomResizedCrop 224 (0.08-1, bicubic), colour
    jitter p 0.8, grey p 0.2, PIL Gaussian blur (p 1 / 0.1), solarize (view
    2, p 0.2), ToTensor, Normalize; and the 118-patch block mask."""
    from PIL import ImageFilter, ImageOps
    from torchvision import transforms as T

    class PILBlur:

        def __init__(self, prob):
            self.prob = prob

        def __call__(self, image):
            if random.random() >= self.prob:
                return image
            return image.filter(
                ImageFilter.GaussianBlur(radius=random.uniform(0.1, 2.0)))

    class PILSolarize:

        def __call__(self, image):
            return ImageOps.solarize(image) if random.random() < 0.2 else \
                image

    def view(blur, solarize):
        return T.Compose([
            T.RandomResizedCrop(224, scale=(0.08, 1.),
                                interpolation=T.InterpolationMode.BICUBIC),
            T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
            T.RandomGrayscale(p=0.2), PILBlur(blur)] +
            ([PILSolarize()] if solarize else []) +
            [T.ToTensor(), T.Normalize(MEAN, STD)])

    views = [view(1.0, False), view(0.1, True)]
    mask = TRANSFORMS.build(dict(
        type='BlockwiseMaskGenerator', input_size=14,
        num_masking_patches=118, min_num_patches=16, min_aspect=0.3,
        fixed_num_masking_patches=True))

    def run(path):
        image = Image.open(path).convert('RGB')
        out = []
        for transform in views:
            flipped = ImageOps.mirror(image) if random.random() < 0.5 else \
                image
            out.append(transform(flipped))
        return out, mask({})['mask']

    return run


def mulan_reference():
    """MULAN's official views (spec section 2): ``torchvision.io`` decode
    to uint8, then ``transforms.v2`` tensor ops: 2 global (224, 0.25-1), 2
    local (96, 0.08-0.25), 1 cutout view; crop (bicubic, antialiased),
    flip, to float, cutout, colour jitter p 0.8, grey p 0.2, blur kernel 23
    (p 1 / 0.1 / 0.5 / 0.5), solarize 0.5 (global 2, p 0.2), Normalize."""
    from torchvision.io import ImageReadMode, decode_image, read_file
    from torchvision.transforms import v2

    def view(size, scale, blur, solarize=False, cutout=False):
        steps = [
            v2.RandomResizedCrop(size, scale=scale,
                                 interpolation=v2.InterpolationMode.BICUBIC,
                                 antialias=True),
            v2.RandomHorizontalFlip(),
            v2.ToDtype(torch.float32, scale=True)]
        if cutout:
            steps.append(v2.RandomErasing(p=1.0, scale=(0.2, 0.4),
                                          value=list(MEAN)))
        steps += [
            v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
            v2.RandomGrayscale(p=0.2),
            v2.RandomApply([v2.GaussianBlur(23, sigma=(0.1, 2.0))], p=blur)]
        if solarize:
            steps.append(v2.RandomSolarize(0.5, p=0.2))
        steps.append(v2.Normalize(MEAN, STD))
        return v2.Compose(steps)

    views = [view(224, (0.25, 1.), 1.0), view(224, (0.25, 1.), 0.1, True),
             view(96, (0.08, 0.25), 0.5), view(96, (0.08, 0.25), 0.5),
             view(224, (0.25, 1.), 0.5, cutout=True)]

    def run(path):
        image = decode_image(read_file(path), mode=ImageReadMode.RGB)
        return [transform(image) for transform in views]

    return run


def paired_rates(pipelines: dict, paths, images: int, warmup: int = 10,
                 chunk: int = 10) -> dict:
    """Images/s of each pipeline over ``images`` samples, timed in chunks of
    ``chunk`` samples taken in turns, so that all pipelines meet the same
    load of a shared machine (whose speed can change by half within a
    minute), after ``warmup`` untimed samples each."""
    for pipeline in pipelines.values():
        for i in range(warmup):
            pipeline(paths[i % len(paths)])
    seconds = dict.fromkeys(pipelines, 0.)
    for first in range(0, images, chunk):
        samples = [paths[i % len(paths)]
                   for i in range(first, min(first + chunk, images))]
        for name, pipeline in pipelines.items():
            start = time.perf_counter()
            for path in samples:
                pipeline(path)
            seconds[name] += time.perf_counter() - start
    return {name: images / seconds[name] for name in pipelines}


def main(argv=None):
    args = parse_args(argv)
    if args.rounds < 1 or args.images < 1:
        raise SystemExit('--rounds and --images must be at least 1')
    checkouts = check_checkouts(args.checkouts)
    setup_runtime()
    # One data-loader worker: one process, one thread.
    torch.set_num_threads(1)
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    import cv2
    cv2.setNumThreads(1)
    register_all_modules()
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    pipelines = {'mmsiam pipeline': config_pipeline(args.config)}
    if args.reference:
        pipelines[f'official {args.reference} pipeline (torchvision, from '
                  'the spec)'] = dict(siameseim=siameseim_reference,
                                      mulan=mulan_reference)[args.reference]()
    if checkouts:
        from official_checkout import official_code_pipeline
    for method, path in checkouts.items():
        pipelines[f'official {method} code `{checkout_commit(path)}` '
                  'pipeline'] = official_code_pipeline(method, path)
    with tempfile.TemporaryDirectory() as tmp:
        paths = (sorted(osp.join(args.photo_dir, f)
                        for f in os.listdir(args.photo_dir))
                 if args.photo_dir else write_photos(tmp))
        rates = {name: [] for name in pipelines}
        for _ in range(args.rounds):
            for name, rate in paired_rates(pipelines, paths,
                                           args.images).items():
                rates[name].append(rate)
    print(f'config: {args.config}')
    print(f'machine: {cpu_model()}, one thread (a loader worker)')
    print(f'photos: {len(paths)} JPEGs, '
          f'{"x".join(map(str, IMAGENET_SIZE))} px; '
          f'{args.rounds} rounds of {args.images} images')
    medians = {name: float(np.median(r)) for name, r in rates.items()}
    for name, median in medians.items():
        ratio = '' if name == 'mmsiam pipeline' else \
            f'; mmsiam x{medians["mmsiam pipeline"] / median:.2f}'
        print(f'{name}: {median:.1f} images/s per worker'
              f'{spread(rates[name])}{ratio}')


def spread(rates) -> str:
    """`` (median of a, b, c)`` for more than one round, else nothing."""
    if len(rates) == 1:
        return ''
    return f' (median of {", ".join(f"{r:.1f}" for r in rates)})'


if __name__ == '__main__':
    sys.exit(main())
