"""The PIL* transforms: the stack's pixels on arrays, and the same pixels
from the same draws whether a view is a BGR array or an RGB PIL image."""
import random

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose, RandomFlip
from mmengine.config import Config
from mmpretrain.datasets.transforms import (ColorJitter, GaussianBlur,
                                            RandomResizedCrop, Solarize)
from PIL import Image
from skimage import data as skdata
from torchvision.transforms import functional as TF

from helpers import REPO
from mmsiam.datasets.transforms import (MultiViewWithKeys, PILColorJitter,
                                        PILGaussianBlur, PILRandomFlip,
                                        PILRandomGrayscale, PILSolarize,
                                        RandomResizedCropWithBox)
from mmsiam.registry import TRANSFORMS
from mmsiam.runtime import setup_runtime
from mmsiam.utils import register_all_modules

# BYOL's jitter (the configs' byol_photometric.py) and a strong one.
SETTINGS = [dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1),
            dict(brightness=0.8, contrast=0.8, saturation=0.8, hue=0.5)]
BLUR = dict(magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.5)
CROP = dict(scale=(48, 64), crop_ratio_range=(0.08, 1.),
            interpolation='bicubic', backend='pillow')
PAPER_CONFIG = (f'{REPO}/configs/siameseim/'
                'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py')


def bgr_images():
    """Three photos and a small random image, BGR uint8."""
    photos = [skdata.astronaut(), skdata.coffee(), skdata.chelsea()]
    rng = np.random.default_rng(0)
    return [p[..., ::-1].copy() for p in photos] + [
        rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)]


def run(transform, img, seed):
    """``transform`` on ``img`` with every random generator seeded."""
    random.seed(seed)
    np.random.seed(seed)
    return transform(dict(img=img))


def as_bgr(img):
    """An RGB PIL result as the BGR array the array path gives."""
    array = np.asarray(img)
    return cv2.cvtColor(array, cv2.COLOR_RGB2BGR) if array.ndim == 3 \
        else array


@pytest.mark.parametrize('settings', SETTINGS, ids=['byol', 'strong'])
def test_color_jitter_same_pixels_as_mmpretrains(settings):
    setup_runtime()  # mmcv's adjust_hue on numpy 2
    ours, theirs = PILColorJitter(**settings), ColorJitter(**settings)
    images = bgr_images()
    for seed in range(40):
        image = images[seed % len(images)]
        expected = run(theirs, image.copy(), seed)['img']
        got = run(ours, image.copy(), seed)['img']
        assert got.dtype == np.uint8 and got.shape == image.shape
        assert np.array_equal(got, expected), seed


def test_the_cv2_backend_goes_to_color_jitter():
    setup_runtime()
    image = bgr_images()[-1]
    settings = dict(SETTINGS[0], backend='cv2')
    expected = run(ColorJitter(**settings), image.copy(), 3)['img']
    got = run(PILColorJitter(**settings), image.copy(), 3)['img']
    assert np.array_equal(got, expected)


@pytest.mark.parametrize('ours, theirs', [
    (PILRandomFlip(prob=0.5, direction='horizontal'),
     RandomFlip(prob=0.5, direction='horizontal')),
    (PILRandomFlip(prob=0.5, direction=['horizontal', 'vertical',
                                        'diagonal']),
     RandomFlip(prob=0.5, direction=['horizontal', 'vertical', 'diagonal'])),
    (PILGaussianBlur(**BLUR), GaussianBlur(**BLUR)),
    (PILSolarize(thr=128, prob=0.5), Solarize(thr=128, prob=0.5)),
    (RandomResizedCropWithBox(**CROP), RandomResizedCrop(**CROP)),
], ids=['flip', 'flip-3-directions', 'blur', 'solarize', 'crop'])
def test_array_path_is_the_stack_transform(ours, theirs):
    for seed, image in enumerate(bgr_images() * 3):
        got = run(ours, image.copy(), seed)
        expected = run(theirs, image.copy(), seed)
        assert np.array_equal(got['img'], expected['img']), seed
        assert got.get('flip') == expected.get('flip')


@pytest.mark.parametrize('transform', [
    PILRandomFlip(prob=0.5, direction=['horizontal', 'vertical',
                                       'diagonal']),
    RandomResizedCropWithBox(**CROP),
    PILColorJitter(**SETTINGS[0]),
    PILColorJitter(**SETTINGS[1]),
    PILRandomGrayscale(prob=0.5, keep_channels=True),
    PILRandomGrayscale(prob=0.5),
    PILGaussianBlur(**BLUR),
    PILSolarize(thr=128, prob=0.5),
], ids=['flip', 'crop', 'jitter', 'strong-jitter', 'grey', 'grey-1-channel',
        'blur', 'solarize'])
def test_same_pixels_and_keys_from_an_array_and_a_pil_image(transform):
    setup_runtime()
    for seed, image in enumerate(bgr_images() * 3):
        from_array = run(transform, image.copy(), seed)
        rgb = Image.fromarray(image[..., ::-1].copy())
        from_pil = run(transform, rgb, seed)
        assert isinstance(from_array['img'], np.ndarray)
        assert isinstance(from_pil['img'], Image.Image)
        assert np.array_equal(as_bgr(from_pil['img']), from_array['img']), \
            seed
        for key in ('flip', 'flip_direction', 'crop_box',
                    'crop_source_width'):
            assert from_pil.get(key) == from_array.get(key), (key, seed)


@pytest.mark.parametrize('keep_channels', [True, False])
def test_grayscale_is_torchvisions(keep_channels):
    """The official pipelines' grey: torchvision's of a PIL image."""
    transform = PILRandomGrayscale(prob=1.0, keep_channels=keep_channels)
    for image in bgr_images():
        rgb = Image.fromarray(image[..., ::-1].copy())
        expected = np.asarray(TF.rgb_to_grayscale(
            rgb, num_output_channels=3 if keep_channels else 1))
        assert np.array_equal(np.asarray(transform(dict(img=rgb))['img']),
                              expected)
        got = transform(dict(img=image.copy()))['img']
        assert np.array_equal(as_bgr(Image.fromarray(got)) if
                              keep_channels else got, expected)


def test_wrong_images_and_backends_are_errors_that_say_what_to_do():
    rgb = Image.fromarray(bgr_images()[-1])
    with pytest.raises(TypeError, match=r'PILRandomGrayscale takes an '
                       r'\(H, W, 3\) uint8 BGR array or an RGB PIL image.*'
                       r'float32 array of shape \(4, 4, 3\)'):
        PILRandomGrayscale(prob=1.0)(dict(img=np.zeros((4, 4, 3),
                                                       np.float32)))
    with pytest.raises(TypeError, match='L PIL image'):
        PILRandomGrayscale(prob=1.0)(dict(img=rgb.convert('L')))
    with pytest.raises(ValueError, match="backend='cv2'.*jitter before ToPIL"):
        PILColorJitter(brightness=0.4, backend='cv2')(dict(img=rgb))
    with pytest.raises(ValueError, match="backend='cv2'.*crop before ToPIL"):
        RandomResizedCropWithBox(scale=8, backend='cv2')(dict(img=rgb))
    with pytest.raises(TypeError, match=r"\['gt_bboxes'\].*before ToPIL"):
        PILRandomFlip(prob=0.0, direction='horizontal')(
            dict(img=rgb, gt_bboxes=np.zeros((1, 4), np.float32)))


def test_a_view_left_as_a_pil_image_is_an_error():
    register_all_modules()
    views = MultiViewWithKeys(transforms=[[dict(type='ToPIL', to_rgb=True)]])
    with pytest.raises(TypeError, match=r"view 0 .* PIL image; end its "
                       r"pipeline with dict\(type='ToNumpy', to_bgr=True\)"):
        views(dict(img=bgr_images()[-1]))


def test_siameseim_pil_views_are_the_array_pipeline():
    """The paper config's views (PIL from ToPIL to each view's ToNumpy) give
    the views, boxes and flips of the same transforms run on arrays."""
    register_all_modules()
    setup_runtime()
    cfg = Config.fromfile(PAPER_CONFIG)
    types = [t['type'] for t in cfg.train_pipeline]
    assert types.index('ToPIL') == types.index('MultiViewWithKeys') - 1
    on_arrays = cfg.copy()
    for view in ('view_pipeline1', 'view_pipeline2'):
        assert cfg[view][-1]['type'] == 'ToNumpy'
        on_arrays[view] = cfg[view][:-1]

    def views(config, to_pil):
        return Compose(([dict(type='ToPIL', to_rgb=True)] if to_pil else [])
                       + [dict(type='MultiViewWithKeys', num_views=[1, 1],
                               transforms=[config.view_pipeline1,
                                           config.view_pipeline2],
                               keys=['flip', 'crop_box',
                                     'crop_source_width'])])

    pil_views, array_views = views(cfg, True), views(on_arrays, False)
    for seed, image in enumerate(bgr_images() * 5):
        got = run(pil_views, image.copy(), seed)
        expected = run(array_views, image.copy(), seed)
        for key in ('flip', 'crop_box', 'crop_source_width'):
            assert got[key] == expected[key], (key, seed)
        for view, expected_view in zip(got['img'], expected['img']):
            assert isinstance(view, np.ndarray) and view.dtype == np.uint8
            assert np.array_equal(view, expected_view), seed


def test_views_get_their_own_copy_of_a_pil_image():
    """MultiViewWithKeys copies a PIL image per view (Image.copy): a view
    that draws on its image leaves the others' alone."""

    class Paint:

        def __call__(self, results):
            results['img'].paste((255, 0, 0), (0, 0, 4, 4))
            return results

    image = Image.fromarray(bgr_images()[-1])
    views = MultiViewWithKeys(
        transforms=[[Paint(), dict(type='ToNumpy')], [dict(type='ToNumpy')]])
    painted, untouched = views(dict(img=image))['img']
    assert (painted[:4, :4] == (255, 0, 0)).all()
    assert np.array_equal(untouched, np.asarray(image))
