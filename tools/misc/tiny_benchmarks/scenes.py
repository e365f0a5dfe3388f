"""Tiny scenes composed from the real photographs scikit-image ships.

Each scene is a background texture photo with 1-3 objects pasted in
non-overlapping columns. An object is a star-shaped polygon cut from a real
photo of its category, so its polygon, box and mask are exact. The same
scenes feed the COCO, LVIS and ADE20k-layout writers.
"""
import functools
from dataclasses import dataclass, field
from typing import List, Tuple

import numpy as np
from skimage import data as skdata
from skimage.draw import polygon as draw_polygon
from skimage.transform import resize

# Object category -> (scikit-image photo, (y0, x0, y1, x1) of the object).
OBJECT_PHOTOS = {
    'person': ('astronaut', (20, 140, 300, 380)),
    'cat': ('chelsea', (30, 110, 280, 360)),
    'cup': ('coffee', (40, 100, 360, 520)),
}
# Background texture photos.
BACKGROUND_PHOTOS = ('brick', 'grass', 'gravel', 'hubble_deep_field')


@dataclass
class SceneObject:
    """One pasted object.

    Attributes:
        category (str): Key of :data:`OBJECT_PHOTOS`.
        polygon (np.ndarray): ``(K, 2)`` float vertices as (x, y) pixels.
        mask (np.ndarray): ``(H, W)`` bool, the rasterised polygon.
    """
    category: str
    polygon: np.ndarray
    mask: np.ndarray

    @property
    def bbox_xywh(self) -> List[float]:
        x0, y0 = self.polygon.min(axis=0)
        x1, y1 = self.polygon.max(axis=0)
        return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


@dataclass
class Scene:
    """An RGB ``(H, W, 3)`` uint8 image, its background photo name and its
    objects."""
    image: np.ndarray
    background: str
    objects: List[SceneObject] = field(default_factory=list)


@functools.lru_cache(maxsize=None)
def _rgb(name: str) -> np.ndarray:
    img = getattr(skdata, name)()
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    return img[..., :3]


def _resized(img: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    out = resize(img, shape, order=1, preserve_range=True, anti_aliasing=True)
    return out.astype(np.uint8)


def star_polygon(rng: np.random.Generator, box: Tuple[float, float, float,
                                                      float],
                 num_vertices: int = 12) -> np.ndarray:
    """A star-shaped polygon inside ``box`` = (x0, y0, x1, y1).

    Returns:
        np.ndarray: ``(num_vertices, 2)`` (x, y) vertices, counter-clockwise
        in image coordinates, all inside the box.
    """
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    angles = np.linspace(0, 2 * np.pi, num_vertices, endpoint=False)
    radii = rng.uniform(0.7, 1.0, num_vertices)
    xs = cx + radii * (x1 - x0) / 2 * np.cos(angles)
    ys = cy + radii * (y1 - y0) / 2 * np.sin(angles)
    return np.stack([xs, ys], axis=1).round(2)


def make_scene(rng: np.random.Generator,
               size: Tuple[int, int] = (240, 320),
               max_objects: int = 3) -> Scene:
    """Compose one scene of ``size`` = (H, W) with 1..max_objects objects."""
    height, width = size
    background = BACKGROUND_PHOTOS[rng.integers(len(BACKGROUND_PHOTOS))]
    image = _resized(_rgb(background), (height, width))
    num = int(rng.integers(1, max_objects + 1))
    column = width / num
    categories = list(OBJECT_PHOTOS)
    objects = []
    for i in range(num):
        category = categories[rng.integers(len(categories))]
        box_w = column * rng.uniform(0.6, 0.9)
        box_h = height * rng.uniform(0.4, 0.8)
        x0 = i * column + rng.uniform(0, column - box_w)
        y0 = rng.uniform(0, height - box_h)
        poly = star_polygon(rng, (x0, y0, x0 + box_w, y0 + box_h))
        rows, cols = draw_polygon(poly[:, 1], poly[:, 0], (height, width))
        mask = np.zeros((height, width), dtype=bool)
        mask[rows, cols] = True
        photo, (py0, px0, py1, px1) = OBJECT_PHOTOS[category]
        top, left = int(y0), int(x0)
        bottom, right = int(np.ceil(y0 + box_h)), int(np.ceil(x0 + box_w))
        patch = _resized(
            _rgb(photo)[py0:py1, px0:px1], (bottom - top, right - left))
        region = mask[top:bottom, left:right]
        image[top:bottom, left:right][region] = patch[region]
        objects.append(SceneObject(category, poly, mask))
    return Scene(image, background, objects)
