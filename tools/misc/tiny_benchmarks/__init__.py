"""Tiny COCO / LVIS v1 / ADE20k sets in the real benchmarks' layouts, made
from photographs that scikit-image ships, and an ImageNet-layout set of the
built-in digits (tools/misc/make_tiny_datasets.py)."""
from . import ade20k_format, coco_format, imagenet_format
from .scenes import Scene, SceneObject, make_scene

__all__ = [
    'Scene', 'SceneObject', 'make_scene', 'coco_format', 'ade20k_format',
    'imagenet_format'
]
