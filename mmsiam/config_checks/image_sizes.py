"""Images too small for a pipeline's fixed-size crop, found before training.

``CenterCrop`` and ``RandomCrop`` applied to an image smaller than their
``crop_size`` (with no resize or padding before them) return a smaller
image; the batch then fails to collate in a data-loader worker, hours into a
run, without naming the image. :func:`check_image_sizes` reads the header of
every image of such a dataset before training and names the ones that are
too small. Pipelines that resize first (``RandomResizedCrop`` and its
variants, ``ResizeEdge``...) accept any image size and cost nothing here.
"""
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List, NamedTuple, Optional, Sequence, Tuple

from mmengine import DefaultScope
from mmengine.logging import print_log
from mmengine.registry import DATASETS
from PIL import Image

# Fixed-size crops: the order of their ``crop_size`` and the arguments that
# make them pad a small image instead.
FIXED_CROPS = {
    'CenterCrop': ('wh', ('auto_pad', )),  # mmcv
    'RandomCrop': ('hw', ('padding', 'pad_if_needed')),  # mmpretrain
}


class CropRequirement(NamedTuple):
    """The smallest image a pipeline's first crop can take."""
    height: int
    width: int
    index: int  # of the crop in the pipeline
    crop: dict


def crop_requirement(pipeline: Sequence[dict]) -> Optional[CropRequirement]:
    """The size a pipeline's fixed-size crop needs, or None when a resize
    or padding transform comes before any such crop."""
    for index, transform in enumerate(pipeline):
        name = str(transform.get('type', '')).rpartition('.')[2]
        if 'Resize' in name or 'Pad' in name:
            return None
        if name in FIXED_CROPS:
            order, pad_keys = FIXED_CROPS[name]
            if any(transform.get(key) for key in pad_keys):
                return None
            size = transform['crop_size']
            first, second = (size, size) if isinstance(size, int) else size
            height, width = (first, second) if order == 'hw' else (second,
                                                                   first)
            return CropRequirement(height, width, index, transform)
    return None


def image_size(path: str) -> Optional[Tuple[int, int]]:
    """``(height, width)`` from an image file's header; None if unreadable
    (``LoadImageOrSkip`` deals with those)."""
    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception:  # unreadable for any reason: not a size problem
        return None
    return height, width


def _image_paths(dataset_cfg: dict, default_scope: Optional[str]) -> list:
    with DefaultScope.overwrite_default_scope(default_scope):
        dataset = DATASETS.build({**dataset_cfg, 'pipeline': []})
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return [info['img_path'] for info in infos if 'img_path' in info]


def too_small_images(paths: List[str], need: CropRequirement,
                     num_threads: int = 16) -> List[Tuple[str, tuple]]:
    """``(path, (height, width))`` of the images smaller than ``need``."""
    with ThreadPoolExecutor(num_threads) as pool:
        sizes = list(pool.map(image_size, paths))
    return [(path, size) for path, size in zip(paths, sizes)
            if size and (size[0] < need.height or size[1] < need.width)]


def check_image_sizes(dataset_cfg: dict, where: str,
                      default_scope: Optional[str]) -> None:
    """Raise ``ValueError`` naming the images of the dataset at config path
    ``where`` that are smaller than its pipeline's fixed-size crop."""
    need = crop_requirement(dataset_cfg.get('pipeline') or [])
    if need is None:
        return
    start = time.perf_counter()
    paths = _image_paths(dataset_cfg, default_scope)
    small = too_small_images(paths, need)
    print_log(
        f'{where}: checked the size of {len(paths)} images for '
        f'{need.crop["type"]} in {time.perf_counter() - start:.1f} s',
        logger='current')
    if small:
        shown = ', '.join(f'{path} ({h}x{w})' for path, (h, w) in small[:5])
        raise ValueError(
            f'{where}.pipeline[{need.index}]: {need.crop["type"]} with '
            f'crop_size={need.crop["crop_size"]} needs images of at least '
            f'{need.height}x{need.width} (height x width); {len(small)} of '
            f'{len(paths)} images are smaller: {shown}. Resize before the '
            'crop (e.g. ResizeEdge), let the crop pad, or remove them.')
