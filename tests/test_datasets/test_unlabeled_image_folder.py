"""UnlabeledImageFolder on real photos in nested folders."""
import os.path as osp

import pytest
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.logging import MMLogger

from helpers import (DEMO_PRETRAIN_CONFIG, PHOTOS, REPO, TINY_DEMO_OPTIONS,
                     resume_after_kill, run_tool, write_photo_folder)
from mmsiam.datasets import UnlabeledImageFolder
from mmsiam.registry import DATASETS


@pytest.fixture
def photo_folder(tmp_path):
    return write_photo_folder(tmp_path / 'photos')


def test_every_image_is_found_recursively_and_the_rest_counted(
        photo_folder, capsys, request):
    # A current logger made now writes to the captured stdout (an earlier
    # test's logger holds the stream it was made with).
    MMLogger.get_instance(request.node.name)
    dataset = UnlabeledImageFolder(data_root=str(photo_folder))
    paths = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
    assert paths == sorted(str(photo_folder / rel) for rel, _ in PHOTOS)
    assert 'gt_label' not in dataset.get_data_info(0)
    # .DS_Store is hidden: not listed, not counted.
    assert 'skipped 3 files that are not jpg/jpeg/png/webp/bmp' in (
        capsys.readouterr().out)


def test_a_config_pipeline_gets_the_loading_step_it_lacks(photo_folder):
    """The demo's pipeline (written for MNIST5k's decoded digits) on photos:
    the views of every photo, decoded by the LoadImageOrSkip put first."""
    cfg = Config.fromfile(DEMO_PRETRAIN_CONFIG)
    inner = cfg.train_dataloader.dataset.dataset
    assert inner.pipeline[0]['type'] != 'LoadImageFromFile'
    inner.update(type='UnlabeledImageFolder', data_root=str(photo_folder))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == len(PHOTOS)
    assert type(dataset.dataset.pipeline.transforms[0]).__name__ == \
        'LoadImageOrSkip'
    sample = dataset[0]
    views = sample['inputs']
    view_types = sample['data_samples'].view_type
    assert len(views) == len(view_types) == 5
    assert views[0].shape == (3, 64, 64)  # the demo's global crops
    # A pipeline that loads already is left as it is.
    with DefaultScope.overwrite_default_scope('mmsiam'):
        loads = UnlabeledImageFolder(
            data_root=str(photo_folder),
            pipeline=[dict(type='LoadImageOrSkip')])
    assert [type(t).__name__ for t in loads.pipeline.transforms] == [
        'LoadImageOrSkip']


@pytest.mark.parametrize('contents', [[], ['readme.md', 'sub/data.csv']],
                         ids=['empty', 'no-images'])
def test_a_folder_without_images_is_named(tmp_path, contents):
    root = write_photo_folder(tmp_path / 'mine', photos=[],
                              not_images=contents)
    root.mkdir(exist_ok=True)
    with pytest.raises(FileNotFoundError,
                       match=rf"no images under '{root}' \({len(contents)} "
                       r'other files\); expected files ending in \.jpg'):
        UnlabeledImageFolder(data_root=str(root))


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=rf"data_root '{tmp_path / 'nope'}' is not a "
                       'folder'):
        UnlabeledImageFolder(data_root=str(tmp_path / 'nope'))


def folder_options(root):
    return [o for o in TINY_DEMO_OPTIONS if not o.startswith((
        'train_dataloader.dataset.dataset.indices',
        'train_dataloader.batch_size'))] + [
            'train_dataloader.dataset.dataset.type=UnlabeledImageFolder',
            f'train_dataloader.dataset.dataset.data_root={root}',
            'train_dataloader.batch_size=4'
        ]


@pytest.mark.slow
def test_demo_pretrains_on_a_photo_folder_and_resumes_exactly(tmp_path):
    """The command of docs/custom_data.md, then a run killed in epoch 2 and
    resumed: it ends as the uninterrupted run did."""
    # 16 photos: 4 iterations of 4 per epoch.
    photos = [(f'set{i % 3}/{i:02d}_{osp.basename(rel)}', name)
              for i, (rel, name) in enumerate((PHOTOS * 3)[:16])]
    root = write_photo_folder(tmp_path / 'photos', photos)
    options = folder_options(root)
    full = tmp_path / 'full'
    proc = run_tool([
        osp.join(REPO, 'tools', 'train.py'), DEMO_PRETRAIN_CONFIG,
        '--work-dir', full, '--cfg-options'
    ] + options, timeout=900)
    assert f'{len(photos)} images under {root}; skipped 3 files' in (
        proc.stdout)
    assert (full / 'epoch_2.pth').exists()
    resume_after_kill(DEMO_PRETRAIN_CONFIG, full, tmp_path, options)
