"""Write a tiny image-classification set in ImageNet-1k's on-disk layout,
read unchanged by mmpretrain's ``ImageNet(data_root, split=...)``::

    imagenet/train/n00000003/n00000003_7.JPEG
    imagenet/val/ILSVRC2012_val_00000001.JPEG          (flat, as released)
    imagenet/meta/train.txt   "n00000003/n00000003_7.JPEG 3"
    imagenet/meta/val.txt     "ILSVRC2012_val_00000001.JPEG 3"
"""
import os
import os.path as osp
from typing import Iterable, Tuple

import numpy as np
from PIL import Image


def wnid(label: int) -> str:
    """The class folder name of ``label`` (WordNet-id style)."""
    return f'n{label:08d}'


def write_split(samples: Iterable[Tuple[np.ndarray, int]], root: str,
                split: str, size: int = 64) -> int:
    """Write ``(image HxWx3 uint8, label)`` pairs, resized to ``size``.

    Returns:
        int: the number of images written.
    """
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    lines = []
    for index, (image, label) in enumerate(samples, start=1):
        if split == 'train':
            rel = f'{wnid(label)}/{wnid(label)}_{index}.JPEG'
        else:
            rel = f'ILSVRC2012_val_{index:08d}.JPEG'
        path = osp.join(root, split, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        Image.fromarray(image).resize((size, size), Image.BICUBIC).save(
            path, format='JPEG', quality=95)
        lines.append(f'{rel} {label}')
    with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(lines)
