"""Write a tiny ADE20k (SceneParsing, 150 classes) set.

Layout of the real ``ADEChallengeData2016`` folder, read unchanged by mmseg's
``ADE20KDataset`` (``reduce_zero_label=True``) and ``IoUMetric``::

    ADEChallengeData2016/images/{training,validation}/ADE_{train,val}_%08d.jpg
    ADEChallengeData2016/annotations/{training,validation}/ADE_..._%08d.png

Annotation PNGs hold one uint8 class per pixel: 0 = "other" (ignored after
``reduce_zero_label``), 1..150 = ADE20k classes in mmseg's order.
"""
import os
import os.path as osp
from typing import List

import numpy as np
from PIL import Image

from .scenes import Scene

# Scene part -> ADE20k class name (mmseg's ADE20KDataset.METAINFO).
ADE_CLASS_OF = {
    'brick': 'wall',
    'grass': 'grass',
    'gravel': 'earth',
    'hubble_deep_field': 'sky',
    'person': 'person',
    'cat': 'animal',
    'cup': 'glass',
}
SPLIT_FOLDERS = {'train': ('training', 'ADE_train'),
                 'val': ('validation', 'ADE_val')}


def label_map(scene: Scene, ade_classes) -> np.ndarray:
    """``(H, W)`` uint8 ADE labels (1-based) of a scene."""
    index = {name.strip(): i + 1 for i, name in enumerate(ade_classes)}
    labels = np.full(scene.image.shape[:2], index[ADE_CLASS_OF[
        scene.background]], dtype=np.uint8)
    for obj in scene.objects:
        labels[obj.mask] = index[ADE_CLASS_OF[obj.category]]
    return labels


def write_split(scenes: List[Scene], root: str, split: str,
                ade_classes) -> List[str]:
    """Write one split; returns the image paths."""
    folder, prefix = SPLIT_FOLDERS[split]
    img_dir = osp.join(root, 'images', folder)
    ann_dir = osp.join(root, 'annotations', folder)
    os.makedirs(img_dir, exist_ok=True)
    os.makedirs(ann_dir, exist_ok=True)
    paths = []
    for i, scene in enumerate(scenes, start=1):
        name = f'{prefix}_{i:08d}'
        path = osp.join(img_dir, name + '.jpg')
        Image.fromarray(scene.image).save(path, quality=95)
        Image.fromarray(label_map(scene, ade_classes)).save(
            osp.join(ann_dir, name + '.png'))
        paths.append(path)
    return paths
