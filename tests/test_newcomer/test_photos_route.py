"""Newcomer items 6 and 10 (issue #33): the documented photos route
(docs/custom_data.md) works on realistic input: a corrupt JPEG is skipped,
and visualize_views.py draws the views of photos."""
import os.path as osp

import numpy as np
import pytest
from PIL import Image

from helpers import (DEMO_PRETRAIN_CONFIG, PHOTOS, REPO, TINY_DEMO_OPTIONS,
                     load_tool, run_tool, write_photo_folder)

views_tool = load_tool('analysis_tools/visualize_views.py')


def photo_options(root):
    return ['train_dataloader.dataset.dataset.type=UnlabeledImageFolder',
            f'train_dataloader.dataset.dataset.data_root={root}']


def test_visualize_views_draws_photos_with_cfg_options(tmp_path):
    """It stopped with KeyError: 'img' on every dataset that reads files,
    and had no --cfg-options."""
    photos = write_photo_folder(tmp_path / 'photos')
    paths = views_tool.main([
        DEMO_PRETRAIN_CONFIG, '--num', '2', '--out', str(tmp_path / 'out'),
        '--cfg-options', *photo_options(photos)
    ])
    assert len(paths) == 2
    for path in paths:
        assert np.asarray(Image.open(path).convert('RGB')).std() > 10


def train_on_photos(root, work_dir, batch_size):
    """The documented photos command on the demo, 2 short epochs."""
    options = [o for o in TINY_DEMO_OPTIONS if not o.startswith((
        'train_dataloader.dataset.dataset.indices',
        'train_dataloader.batch_size'))]
    return run_tool([
        osp.join(REPO, 'tools', 'train.py'), DEMO_PRETRAIN_CONFIG,
        '--work-dir', work_dir, '--cfg-options', *photo_options(root),
        f'train_dataloader.batch_size={batch_size}', *options
    ], check=False)


@pytest.mark.slow
def test_a_corrupt_photo_is_skipped_and_a_small_folder_named(tmp_path):
    """A corrupt JPEG crashed epoch 2 with an OpenCV assertion naming no
    file; a folder smaller than a batch stopped with mmengine's
    '`epoch_length` must be a positive integer, but got 0'."""
    photos = write_photo_folder(tmp_path / 'photos')
    good = (photos / 'astronaut.jpg').read_bytes()
    (photos / 'broken.jpg').write_bytes(good[:len(good) // 3])
    proc = train_on_photos(photos, tmp_path / 'run', batch_size=4)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert 'broken.jpg' in proc.stdout
    assert (tmp_path / 'run' / 'epoch_2.pth').is_file()

    proc = train_on_photos(photos, tmp_path / 'big_batch', batch_size=64)
    assert proc.returncode != 0
    assert (f'train_dataloader: {len(PHOTOS) + 1} samples make no full '
            'batch of 64 per process x 1 process(es)') in proc.stdout
    assert '--cfg-options train_dataloader.batch_size=4' in proc.stdout
