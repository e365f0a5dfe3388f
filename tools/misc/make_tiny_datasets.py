#!/usr/bin/env python
"""Write tiny COCO, LVIS v1 and ADE20k sets in the real benchmarks' layouts.

The images are scenes composed from real photographs that scikit-image
ships (no download). With OUT=data the folders land where the mmdet / mmseg
configs expect them::

    OUT/coco/{annotations,train2017,val2017}
    OUT/lvis_v1/{annotations,train2017,val2017}
    OUT/ade/ADEChallengeData2016/{images,annotations}/{training,validation}

Example::

    python tools/misc/make_tiny_datasets.py data --num-train 8 --num-val 4
"""
import argparse
import os.path as osp
import sys

import numpy as np

from mmsiam.datasets.tiny_benchmarks import (ade20k_format, coco_format,
                                             make_scene)

DATASETS = ('coco', 'lvis', 'ade20k')
FOLDERS = {
    'coco': 'coco',
    'lvis': 'lvis_v1',
    'ade20k': osp.join('ade', 'ADEChallengeData2016')
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


WRITERS = {'coco': write_coco, 'lvis': write_lvis, 'ade20k': write_ade20k}


def main(argv=None):
    args = parse_args(argv)
    roots = {name: osp.join(args.out, FOLDERS[name]) for name in args.which}
    existing = [r for r in roots.values() if osp.exists(r)]
    if existing and not args.overwrite:
        sys.exit(f'error: {", ".join(existing)} already exist; choose '
                 'another OUT or pass --overwrite')
    rng = np.random.default_rng(args.seed)
    splits = {
        'train': make_scenes(args.num_train, args.image_size, rng, 'train'),
        'val': make_scenes(args.num_val, args.image_size, rng, 'val'),
    }
    for name in args.which:
        print(f'writing {name} to {roots[name]}')
        WRITERS[name](roots[name], splits)


if __name__ == '__main__':
    main()
