"""SiameseIM views: crop/flip bookkeeping, relative geometry, masks and
packing."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from scipy.ndimage import map_coordinates

from helpers import REPO
from mmsiam.datasets.transforms import (BlockwiseMaskGenerator,
                                        MultiViewWithKeys,
                                        SiameseIMRelativeGeometry,
                                        relative_geometry)
from mmsiam.models.utils import relative_patch_centres

PAPER_CONFIG = (f'{REPO}/configs/siameseim/'
                'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py')


def _views(size, patch, scale=(0.08, 1.)):
    view = [
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='RandomResizedCropWithBox', scale=size,
             crop_ratio_range=scale, interpolation='bilinear',
             backend='cv2'),
    ]
    return [
        MultiViewWithKeys(transforms=[view, view], num_views=[1, 1],
                          keys=['flip', 'crop_box', 'crop_source_width']),
        SiameseIMRelativeGeometry()
    ]


def _gradient_image(height=300, width=400):
    """Channel 0 encodes x, channel 1 encodes y of the original image."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.zeros((height, width, 3), dtype=np.float32)
    img[..., 0] = xs
    img[..., 1] = ys
    return img


def test_relative_geometry_definition():
    got = relative_geometry((10, 20, 100, 200), (30, 60, 50, 100), True,
                            False, 400)
    expected = [(30 - 10) / 100, (60 - 20) / 200, 50 / 100, 100 / 200, 1.,
                (400 - 20 - 60) / 200]
    assert np.allclose(got, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize('seed', range(3))
def test_patch_centres_land_on_matching_view1_pixels(seed):
    """View-2 patch centres mapped by the relative geometry show the same
    original-image point in view 1 (flips included)."""
    size, patch = 112, 16
    grid = size // patch
    np.random.seed(seed)
    pipeline = _views(size, patch, scale=(0.3, 1.))
    flips_seen, checked = set(), 0
    for _ in range(40):
        results = dict(img=_gradient_image())
        for t in pipeline:
            results = t(results)
        view1, view2 = results['img']
        flips_seen.add(tuple(results['flip']))
        geometry = results['relative_geometry'][None]
        gh, gw = (t[0].numpy() for t in relative_patch_centres(geometry, grid))
        rows, cols = np.divmod(np.arange(grid * grid), grid)
        # Pixel-index coordinates of patch centres (pixel i covers [i, i+1)).
        centre2 = ((rows + 0.5) * patch - 0.5, (cols + 0.5) * patch - 0.5)
        centre1 = ((gh + 0.5) * patch - 0.5, (gw + 0.5) * patch - 0.5)
        # Points of view 1 away from its border (where resizing clamps).
        low, high = patch / 2, size - 1 - patch / 2
        inside = ((centre1[0] >= low) & (centre1[0] <= high) &
                  (centre1[1] >= low) & (centre1[1] <= high))
        for channel in (0, 1):  # original x, original y
            at2 = map_coordinates(view2[..., channel], centre2, order=1)
            at1 = map_coordinates(view1[..., channel],
                                  (centre1[0][inside], centre1[1][inside]),
                                  order=1)
            # Bilinear resizing of a linear ramp is exact up to rounding.
            assert np.abs(at2[inside] - at1).max() < 1.0
        checked += int(inside.sum())
    assert checked > 500
    assert {(False, True), (True, False)} <= flips_seen


def test_identity_geometry_is_zero_offset():
    results = dict(img=_gradient_image())
    results['flip'] = [True, True]
    results['crop_box'] = [(5, 7, 100, 120)] * 2
    results['crop_source_width'] = [400, 400]
    geometry = SiameseIMRelativeGeometry()(results)['relative_geometry']
    assert geometry.dtype == torch.float32
    assert geometry.tolist() == pytest.approx(
        [0, 0, 1, 1, 0, (400 - 14) / 120])


def test_geometry_needs_two_views():
    with pytest.raises(ValueError, match='exactly 2 views'):
        SiameseIMRelativeGeometry()(
            dict(flip=[False], crop_box=[(0, 0, 1, 1)],
                 crop_source_width=[4]))


def test_mask_has_exactly_118_blockwise_patches():
    np.random.seed(0)
    generator = BlockwiseMaskGenerator(14, 118, min_num_patches=16)
    for _ in range(500):
        mask = generator({})['mask']
        assert mask.shape == (14, 14) and mask.dtype == bool
        assert mask.sum() == 118
    # Without the top-up a draw may stop short; with it never.
    loose = BlockwiseMaskGenerator(14, 118, fixed_num_masking_patches=False)
    counts = {int(loose.generate().sum()) for _ in range(200)}
    assert max(counts) <= 118 and min(counts) < 118


def test_mask_size_must_fit_the_grid():
    with pytest.raises(ValueError, match='200.*14x14'):
        BlockwiseMaskGenerator(14, 200)


def test_paper_pipeline_packing_contract(tmp_path):
    from mmsiam.registry import TRANSFORMS
    from mmsiam.utils import register_all_modules
    from PIL import Image
    from skimage import data
    register_all_modules()
    path = tmp_path / 'astronaut.jpg'
    Image.fromarray(data.astronaut()).save(path)
    cfg = Config.fromfile(PAPER_CONFIG)
    pipeline = [TRANSFORMS.build(t) for t in cfg.train_pipeline]
    results = dict(img_path=str(path))
    for t in pipeline:
        results = t(results)
    view1, view2 = results['inputs']
    assert view1.shape == view2.shape == (3, 224, 224)
    sample = results['data_samples']
    assert sample.mask.shape == (14, 14) and sample.mask.dtype == torch.bool
    assert int(sample.mask.sum()) == 118
    assert sample.relative_geometry.shape == (6, )
    assert sample.relative_geometry.dtype == torch.float32
