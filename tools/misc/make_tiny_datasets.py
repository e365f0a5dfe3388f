#!/usr/bin/env python
"""Write tiny COCO, LVIS v1, ADE20k and ImageNet sets in the real
benchmarks' layouts.

COCO / LVIS / ADE20k images are scenes composed from real photographs that
scikit-image ships; the ImageNet-layout set holds the built-in MNIST5k
digits (10 classes, ``--num-train`` / ``--num-val`` images per class). No
download. With OUT=data the folders land where the mmdet / mmseg /
mmpretrain configs expect them::

    OUT/coco/{annotations,train2017,val2017}
    OUT/lvis_v1/{annotations,train2017,val2017}
    OUT/ade/ADEChallengeData2016/{images,annotations}/{training,validation}
    OUT/imagenet/{train,val,meta}

Example::

    python tools/misc/make_tiny_datasets.py data --num-train 8 --num-val 4
"""
import argparse
import os.path as osp
import sys

import numpy as np

from mmsiam.datasets import MNIST5k

# The generators next to this script (not part of the installed package).
from tiny_benchmarks import (ade20k_format, coco_format, imagenet_format,
                             make_scene)

DATASETS = ('coco', 'lvis', 'ade20k', 'imagenet')
FOLDERS = {
    'coco': 'coco',
    'lvis': 'lvis_v1',
    'ade20k': osp.join('ade', 'ADEChallengeData2016'),
    'imagenet': 'imagenet',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write tiny COCO / LVIS v1 / ADE20k-layout datasets.')
    parser.add_argument('out', help='root folder, e.g. data')
    parser.add_argument(
        '--which', nargs='+', choices=DATASETS, default=list(DATASETS),
        help='datasets to write (default: all)')
    parser.add_argument('--num-train', type=int, default=8)
    parser.add_argument('--num-val', type=int, default=4)
    parser.add_argument(
        '--image-size', type=int, nargs=2, default=(240, 320),
        metavar=('H', 'W'))
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--overwrite', action='store_true',
        help='write into dataset folders that already exist')
    args = parser.parse_args(argv)
    if args.num_train < 1 or args.num_val < 1:
        parser.error('--num-train and --num-val must be at least 1')
    return args


def make_scenes(num, size, rng, label):
    scenes = []
    for i in range(num):
        scenes.append(make_scene(rng, size=tuple(size)))
        print(f'\r  composing {label} scenes {i + 1}/{num}', end='',
              flush=True)
    print()
    return scenes


def write_coco(root, splits):
    first_id = 1
    for split, scenes in splits.items():
        ann = osp.join(root, 'annotations', f'instances_{split}2017.json')
        coco_format.write_split(scenes, root, split, ann,
                                first_image_id=first_id)
        first_id += len(scenes)
        print(f'  {ann}')


def write_lvis(root, splits):
    from mmdet.datasets import LVISV1Dataset
    names = LVISV1Dataset.METAINFO['classes']
    first_id = 1
    for split, scenes in splits.items():
        ann = osp.join(root, 'annotations', f'lvis_v1_{split}.json')
        coco_format.write_split(scenes, root, split, ann, lvis_names=names,
                                first_image_id=first_id)
        first_id += len(scenes)
        print(f'  {ann}')


def write_ade20k(root, splits):
    from mmseg.datasets import ADE20KDataset
    classes = ADE20KDataset.METAINFO['classes']
    for split, scenes in splits.items():
        paths = ade20k_format.write_split(scenes, root, split, classes)
        print(f'  {len(paths)} images in {osp.dirname(paths[0])}')


def write_imagenet(root, per_class):
    """The first ``per_class[split]`` MNIST5k digits of each class."""
    for split, count in per_class.items():
        dataset = MNIST5k(split=split)
        taken = {}
        samples = []
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            label = info['gt_label']
            if taken.get(label, 0) < count:
                taken[label] = taken.get(label, 0) + 1
                samples.append((info['img'], label))
        written = imagenet_format.write_split(samples, root, split)
        print(f'  {written} images in {osp.join(root, split)}')


SCENE_WRITERS = {
    'coco': write_coco,
    'lvis': write_lvis,
    'ade20k': write_ade20k
}


def main(argv=None):
    args = parse_args(argv)
    roots = {name: osp.join(args.out, FOLDERS[name]) for name in args.which}
    existing = [r for r in roots.values() if osp.exists(r)]
    if existing and not args.overwrite:
        sys.exit(f'error: {", ".join(existing)} already exist; choose '
                 'another OUT or pass --overwrite')
    if 'imagenet' in args.which:
        print(f'writing imagenet to {roots["imagenet"]}')
        write_imagenet(roots['imagenet'],
                       dict(train=args.num_train, val=args.num_val))
    scene_sets = [name for name in args.which if name in SCENE_WRITERS]
    if not scene_sets:
        return
    rng = np.random.default_rng(args.seed)
    splits = {
        'train': make_scenes(args.num_train, args.image_size, rng, 'train'),
        'val': make_scenes(args.num_val, args.image_size, rng, 'val'),
    }
    for name in scene_sets:
        print(f'writing {name} to {roots[name]}')
        SCENE_WRITERS[name](roots[name], splits)


if __name__ == '__main__':
    main()
