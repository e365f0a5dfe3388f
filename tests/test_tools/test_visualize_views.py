"""tools/analysis_tools/visualize_views.py: traced view geometry checked
against pixels, the SiameseIM correspondence, and the PNGs it writes."""
import copy
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image
from scipy.ndimage import map_coordinates

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, MULAN_DEMO_CONFIG, REPO,
                     load_tool, run_tool)
from mmsiam.datasets import unwrap_seeded

views_tool = load_tool('analysis_tools/visualize_views.py')
GEOMETRIC = ('RandomFlip', 'RandomResizedCrop', 'RandomResizedCropWithBox')


def _geometry_only(config):
    """``config`` whose views are only cropped and flipped (no colour)."""
    cfg = Config.fromfile(config)
    dataset = unwrap_seeded(cfg.train_dataloader.dataset)
    pipeline = copy.deepcopy(dataset.pipeline)
    for step in pipeline:
        if step['type'] == 'MultiViewWithKeys':
            step['transforms'] = [[t for t in group if t['type'] in GEOMETRIC]
                                  for group in step['transforms']]
    dataset.pipeline = pipeline
    return cfg


def _sample(source, rows, cols):
    """``source`` (grey) at continuous pixel coordinates, bilinear."""
    return map_coordinates(source[..., 0].astype(float),
                           [np.asarray(rows) - .5, np.asarray(cols) - .5],
                           order=1, mode='nearest')


def _correlation(a, b):
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


@pytest.mark.parametrize('config', [DEMO_CONFIG, MULAN_DEMO_CONFIG])
def test_traced_views_match_their_pixels(config):
    """Each view equals its source region, resampled through the traced
    geometry (a wrong flip or box would decorrelate them)."""
    _, sample = views_tool.build_sampler(_geometry_only(config))
    np.random.seed(0)
    mirrored = 0
    for index in range(0, 4000, 400):
        results = sample(index)
        for view in views_tool.as_views(results):
            img = view['img'][..., 0].astype(float)
            if img.std() == 0:
                continue
            size = img.shape[0]
            centres = np.arange(size) + .5
            rows, cols = np.meshgrid(centres, centres, indexing='ij')
            geometry = view['geometry']
            resampled = _sample(results['source'], geometry.rows(rows),
                                geometry.cols(cols))
            assert _correlation(resampled, img) > 0.9
            mirrored += geometry.mirrored
    assert mirrored > 0


def test_siameseim_patch_centres_land_on_matching_pixels():
    cfg = _geometry_only(DEMO_CONFIG)
    grid = views_tool.grid_size_of(cfg)
    assert grid == 8
    _, sample = views_tool.build_sampler(cfg)
    np.random.seed(1)
    flips = 0
    for index in range(0, 4000, 250):
        results = sample(index)
        views = views_tool.as_views(results)
        # What the model is given equals what the traced crops imply.
        rows, cols = views_tool.mapped_patch_centres(results, grid)
        traced_rows, traced_cols = views_tool.traced_patch_centres(
            views, grid)
        np.testing.assert_allclose(rows, traced_rows, atol=1e-5)
        np.testing.assert_allclose(cols, traced_cols, atol=1e-5)
        flips += int(results['relative_geometry'][4])
        # The pixel under each mapped centre in view 1 is the pixel at the
        # patch centre in view 2.
        patch1 = views[0]['img'].shape[0] / grid
        patch2 = views[1]['img'].shape[0] / grid
        inside = ((rows > 0) & (rows < grid - 1) & (cols > 0) &
                  (cols < grid - 1))
        if inside.sum() < 8:
            continue
        in_view1 = _sample(views[0]['img'], (rows[inside] + .5) * patch1,
                           (cols[inside] + .5) * patch1)
        own = (np.arange(grid) + .5) * patch2
        own_rows, own_cols = np.meshgrid(own, own, indexing='ij')
        in_view2 = _sample(views[1]['img'], own_rows.ravel()[inside],
                           own_cols.ravel()[inside])
        if in_view2.std() > 10:
            assert _correlation(in_view1, in_view2) > 0.8
            assert np.abs(in_view1 - in_view2).mean() < 20
    assert flips > 0


@pytest.mark.parametrize('config,columns', [
    (CONMIM_DEMO_CONFIG, 3),
    (MULAN_DEMO_CONFIG, 6),
])
def test_pngs_of_each_method(config, columns, tmp_path):
    paths = views_tool.main([config, '--num', '2', '--out', str(tmp_path)])
    assert len(paths) == 2
    for path in paths:
        image = np.asarray(Image.open(path).convert('RGB'))
        assert image.shape == (int(views_tool.DPI * (
            views_tool.PANEL_INCHES + 0.4)), int(
                views_tool.DPI * views_tool.PANEL_INCHES * columns), 3)
        assert image.std() > 10


@pytest.mark.slow
def test_command_line_writes_pngs_and_keeps_existing_files(tmp_path):
    tool = osp.join(REPO, 'tools', 'analysis_tools', 'visualize_views.py')
    proc = run_tool([tool, DEMO_CONFIG, '--num', 2, '--out', tmp_path])
    pngs = sorted(tmp_path.glob('*.png'))
    assert len(pngs) == 2 and f'2 PNGs written to {tmp_path}' in proc.stdout
    image = np.asarray(Image.open(pngs[0]).convert('RGB'))
    assert image.shape[:2] == (280, 720) and image.std() > 10
    # A second run into the same folder stops instead of overwriting.
    before = pngs[0].stat().st_mtime_ns
    proc = run_tool([tool, DEMO_CONFIG, '--num', 2, '--out', tmp_path],
                    check=False)
    assert proc.returncode != 0 and 'exists; choose another --out' in \
        proc.stdout
    assert pngs[0].stat().st_mtime_ns == before
