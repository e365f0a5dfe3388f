"""Transforms computed with Pillow that take a BGR array or an RGB PIL image.

mmsiam's images are ``(H, W, 3)`` uint8 BGR arrays (OpenCV decoding, the
OpenMMLab convention), while the official SiameseIM and ConMIM pipelines
hold each view as an RGB PIL image from the flip to ``ToTensor``. Every
transform here (and ``RandomResizedCropWithBox``) takes either

- an ``(H, W, 3)`` uint8 BGR array, converted to PIL and back once, or
- an RGB PIL image, between mmpretrain's ``ToPIL(to_rgb=True)`` and
  ``ToNumpy(to_bgr=True)``, with no conversion at all,

and gives the same pixels from the same random draws for both. A view kept
in PIL from the flip to the blur pays one conversion each way instead of
one or two per transform (docs/performance.md, data pipeline)::

    view = [
        dict(type='ToPIL', to_rgb=True),
        dict(type='PILRandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandomResizedCropWithBox', scale=224, backend='pillow'),
        dict(type='PILColorJitter', brightness=0.4, contrast=0.4),
        dict(type='PILRandomGrayscale', prob=0.2, keep_channels=True),
        dict(type='PILGaussianBlur', magnitude_range=(0.1, 2.0),
             magnitude_std='inf', prob=1.0),
        dict(type='ToNumpy', to_bgr=True),
    ]
"""
from typing import Callable, Dict

import cv2
import numpy as np
from mmcv.transforms import RandomFlip, RandomGrayscale
from mmpretrain.datasets.transforms import ColorJitter, GaussianBlur, Solarize
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from mmsiam.registry import TRANSFORMS
from mmsiam.stack_fixes import shift_pil_hue

# ColorJitter's adjustment index -> the PIL enhancer of mmcv's pillow
# backend (3, the hue, is shift_pil_hue).
ENHANCERS = {0: ImageEnhance.Brightness, 1: ImageEnhance.Contrast,
             2: ImageEnhance.Color}
# mmcv's flip directions as PIL transpositions.
PIL_FLIPS = {'horizontal': Image.Transpose.FLIP_LEFT_RIGHT,
             'vertical': Image.Transpose.FLIP_TOP_BOTTOM,
             'diagonal': Image.Transpose.ROTATE_180}


def is_bgr_uint8(img) -> bool:
    """Whether ``img`` is an ``(H, W, 3)`` uint8 array."""
    return (isinstance(img, np.ndarray) and img.dtype == np.uint8
            and img.ndim == 3 and img.shape[-1] == 3)


def describe(img) -> str:
    """``img``'s kind, for error messages."""
    if isinstance(img, Image.Image):
        return f'a {img.mode} PIL image of {img.width} x {img.height}'
    if isinstance(img, np.ndarray):
        return f'a {img.dtype} array of shape {img.shape}'
    return f'a {type(img).__name__}'


def check_rgb_image(img, transform: str) -> None:
    """Raise unless ``img`` is an ``(H, W, 3)`` uint8 array or an RGB PIL
    image."""
    if not (is_bgr_uint8(img) or
            (isinstance(img, Image.Image) and img.mode == 'RGB')):
        raise TypeError(
            f'{transform} takes an (H, W, 3) uint8 BGR array or an RGB PIL '
            f'image (after ToPIL(to_rgb=True)), got {describe(img)}')


def on_pil(img, operation: Callable[[Image.Image], Image.Image]):
    """``operation`` applied to ``img`` as an RGB PIL image.

    Args:
        img (Image.Image | np.ndarray): An RGB PIL image (passed as is) or
            an ``(H, W, 3)`` uint8 BGR array (converted once each way).
        operation (callable): RGB PIL image -> PIL image (RGB or L).

    Returns:
        The result in ``img``'s kind: a PIL image, or a BGR ``(H, W, 3)``
        (``(H, W)`` for an L result) uint8 array.
    """
    if isinstance(img, Image.Image):
        return operation(img)
    result = np.asarray(
        operation(Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))))
    if result.ndim == 2:
        return result.copy()
    return cv2.cvtColor(result, cv2.COLOR_RGB2BGR)


@TRANSFORMS.register_module()
class PILRandomFlip(RandomFlip):
    """mmcv's ``RandomFlip`` that also flips a PIL image (``Image.transpose``,
    as torchvision's flips of PIL images).

    The same draws and keys (``flip``, ``flip_direction``) as ``RandomFlip``;
    arrays go to ``RandomFlip`` itself. A PIL image is flipped alone: boxes,
    keypoints and segmentation maps need arrays (an error says so).

    Args: those of mmcv's ``RandomFlip`` (``prob``, ``direction``).
    Shape: ``img`` keeps its kind and size.
    """

    def transform(self, results: dict) -> dict:
        if isinstance(results['img'], Image.Image):
            annotations = [key for key in ('gt_bboxes', 'gt_keypoints',
                                           'gt_seg_map')
                           if results.get(key) is not None]
            if annotations:  # checked before the draw: every time
                raise TypeError(
                    f'PILRandomFlip flips a PIL image alone, but the results '
                    f'also hold {annotations}: flip the array before ToPIL')
        return super().transform(results)

    def _flip(self, results: dict) -> None:
        if not isinstance(results['img'], Image.Image):
            return super()._flip(results)
        results['img'] = results['img'].transpose(
            PIL_FLIPS[results['flip_direction']])


@TRANSFORMS.register_module()
class PILColorJitter(ColorJitter):
    """mmpretrain's ``ColorJitter`` (pillow backend) with at most one
    array-to-PIL round trip per image instead of one per adjustment.

    mmpretrain applies brightness, contrast, saturation and hue in a random
    order through ``mmcv.adjust_*(backend='pillow')``, each of which turns
    the BGR array into a PIL image and back. This transform draws the same
    random order and factors (``_rand_params``) and applies the same PIL
    operations (``ImageEnhance``, mmcv's hue shift) to one PIL image: the
    same pixels, bit for bit. Arrays other than ``(H, W, 3)`` uint8 and
    other backends go to ``ColorJitter`` itself.

    Args: those of mmpretrain's ``ColorJitter`` (``brightness``,
    ``contrast``, ``saturation``, ``hue``, ``backend``).
    Shape: ``img`` ``(H, W, 3)`` uint8 BGR or an RGB PIL image -> the same
    kind and size.
    """

    def transform(self, results: Dict) -> Dict:
        img = results['img']
        is_pil = isinstance(img, Image.Image)
        if is_pil and self.backend != 'pillow':
            raise ValueError(
                f"PILColorJitter(backend='{self.backend}') got a PIL image; "
                "use backend='pillow' or jitter before ToPIL")
        if not is_pil and (self.backend != 'pillow' or not is_bgr_uint8(img)):
            return super().transform(results)
        check_rgb_image(img, 'PILColorJitter')
        order, *factors = self._rand_params()

        def jitter(image: Image.Image) -> Image.Image:
            for index in order:
                factor = factors[index]
                if factor is None:
                    continue
                if index == 3:
                    image = shift_pil_hue(image, factor)
                else:
                    image = ENHANCERS[index](image).enhance(factor)
            return image

        results['img'] = on_pil(img, jitter)
        return results


@TRANSFORMS.register_module()
class PILRandomGrayscale(RandomGrayscale):
    """torchvision's ``RandomGrayscale`` of PIL images, the official
    SiameseIM and ConMIM one: ``convert('L')`` (ITU-R 601-2 luma,
    ``L = (299 R + 587 G + 114 B) / 1000`` in PIL's rounded fixed point).

    mmcv's ``RandomGrayscale`` (same ``prob`` draw) weighs the channels in
    float and truncates, one grey level below PIL's at times.

    Args:
        prob (float): Probability of turning the image grey. Defaults to 0.1.
        keep_channels (bool): Return 3 equal channels (torchvision's
            ``num_output_channels=3``) instead of one. Defaults to False.
    Shape: ``img`` ``(H, W, 3)`` uint8 BGR or an RGB PIL image -> the same
    kind, ``(H, W)`` / an L image without ``keep_channels``.
    """

    def __init__(self, prob: float = 0.1, keep_channels: bool = False):
        super().__init__(prob=prob, keep_channels=keep_channels)

    def transform(self, results: Dict) -> Dict:
        check_rgb_image(results['img'], 'PILRandomGrayscale')
        if self._random_prob() < self.prob:
            results['img'] = on_pil(results['img'], self._grey)
        return results

    def _grey(self, image: Image.Image) -> Image.Image:
        grey = image.convert('L')
        return grey.convert('RGB') if self.keep_channels else grey


class PILAugmentMixin:
    """For mmpretrain's ``BaseAugTransform`` subclasses: arrays go to the
    transform itself; a PIL image gets :meth:`pil_operation` after the same
    draws (``random_disable``, then the fixed value named
    ``fixed_magnitude`` or ``random_magnitude``)."""

    fixed_magnitude: str

    def transform(self, results: Dict) -> Dict:
        if not isinstance(results['img'], Image.Image):
            return super().transform(results)
        if self.random_disable():
            return results
        magnitude = getattr(self, self.fixed_magnitude)
        if magnitude is None:
            magnitude = self.random_magnitude()
        results['img'] = self.pil_operation(results['img'], magnitude)
        return results


@TRANSFORMS.register_module()
class PILGaussianBlur(PILAugmentMixin, GaussianBlur):
    """mmpretrain's ``GaussianBlur`` (``ImageFilter.GaussianBlur``, as the
    official codes' PIL blur) that also blurs a PIL image in place of an
    array round trip. The same draws; arrays go to ``GaussianBlur``.

    Args: those of mmpretrain's ``GaussianBlur``.
    Shape: ``img`` keeps its kind and size.
    """

    fixed_magnitude = 'radius'

    def pil_operation(self, image: Image.Image, radius: float):
        return image.filter(ImageFilter.GaussianBlur(radius=radius))


@TRANSFORMS.register_module()
class PILSolarize(PILAugmentMixin, Solarize):
    """mmpretrain's ``Solarize`` (invert the values ``>= thr``) that also
    solarizes a PIL image (``ImageOps.solarize``). The same draws; arrays
    go to ``Solarize``.

    Args: those of mmpretrain's ``Solarize``.
    Shape: ``img`` keeps its kind and size.
    """

    fixed_magnitude = 'thr'

    def pil_operation(self, image: Image.Image, thr: float):
        return ImageOps.solarize(image, threshold=thr)
