"""PILColorJitter: mmpretrain's ColorJitter, the same pixels bit for bit."""
import numpy as np
import pytest
from mmpretrain.datasets.transforms import ColorJitter
from skimage import data as skdata

from mmsiam.datasets.transforms import PILColorJitter
from mmsiam.runtime import setup_runtime

# BYOL's jitter (the configs' byol_photometric.py) and a strong one.
SETTINGS = [dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1),
            dict(brightness=0.8, contrast=0.8, saturation=0.8, hue=0.5)]


@pytest.mark.parametrize('settings', SETTINGS, ids=['byol', 'strong'])
def test_same_pixels_as_mmpretrains_color_jitter(settings):
    setup_runtime()  # mmcv's adjust_hue on numpy 2
    ours, theirs = PILColorJitter(**settings), ColorJitter(**settings)
    photos = [skdata.astronaut(), skdata.coffee(), skdata.chelsea()]
    rng = np.random.default_rng(0)
    images = [p[..., ::-1].copy() for p in photos] + [
        rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)]
    for seed in range(40):
        image = images[seed % len(images)]
        np.random.seed(seed)
        expected = theirs.transform(dict(img=image.copy()))['img']
        np.random.seed(seed)
        got = ours.transform(dict(img=image.copy()))['img']
        assert got.dtype == np.uint8 and got.shape == image.shape
        assert np.array_equal(got, expected), seed


def test_the_cv2_backend_goes_to_color_jitter():
    setup_runtime()
    image = np.random.default_rng(1).integers(0, 256, (20, 30, 3),
                                             dtype=np.uint8)
    settings = dict(SETTINGS[0], backend='cv2')
    np.random.seed(3)
    expected = ColorJitter(**settings).transform(dict(img=image.copy()))
    np.random.seed(3)
    got = PILColorJitter(**settings).transform(dict(img=image.copy()))
    assert np.array_equal(got['img'], expected['img'])
