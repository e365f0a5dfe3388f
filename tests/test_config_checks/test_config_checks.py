import pytest
from mmengine.config import Config

from mmsiam.config_checks import check_config
from mmsiam.config_checks import ConfigKeyError


def _cfg(**kwargs):
    return Config(dict(kwargs))


def test_misspelt_runner_key_is_named():
    cfg = _cfg(train_dataloder=dict(batch_size=2), train_cfg=dict())
    with pytest.raises(ConfigKeyError) as err:
        check_config(cfg)
    assert '"train_dataloder"' in str(err.value)
    assert '"train_dataloader"' in str(err.value)


def test_config_variables_are_not_typos():
    # Ordinary variables of OpenMMLab configs pass.
    check_config(
        _cfg(data_root='x', train_pipeline=[], test_pipeline=[],
             backend_args=None, dataset_type='CocoDataset', model=dict()))


def test_missing_data_root_names_key_and_path(tmp_path):
    missing = str(tmp_path / 'imagenet')
    cfg = _cfg(train_dataloader=dict(
        dataset=dict(type='ImageNet', data_root=missing, split='train')))
    with pytest.raises(FileNotFoundError) as err:
        check_config(cfg)
    assert 'train_dataloader.dataset.data_root' in str(err.value)
    assert missing in str(err.value)


@pytest.mark.parametrize('make_folders, message', [
    ([], r'data_root: ".*data" is empty; expected the dataset folder'),
    (['val'], r'data_root: ".*data/train" does not exist; expected a data '
     r'root holding the "train" image folder \(or meta/train\.txt\) of '
     r'split="train"'),
    (['train'], r'data_root: ".*data/train" is empty; expected a data root '
     r'holding the "train" image folder'),
])
def test_empty_data_root_or_split_folder_is_named(tmp_path, make_folders,
                                                  message):
    root = tmp_path / 'data'
    root.mkdir()
    for folder in make_folders:
        (root / folder).mkdir()
    cfg = _cfg(train_dataloader=dict(
        dataset=dict(type='ImageNet', data_root=str(root), split='train')))
    with pytest.raises(FileNotFoundError,
                       match=r'^train_dataloader\.dataset\.' + message):
        check_config(cfg)


def test_wrapped_dataset_ann_file_is_checked(tmp_path):
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations' / 'lvis_v1_train.json').write_text('{}')
    cfg = _cfg(val_dataloader=dict(dataset=dict(
        type='ClassBalancedDataset',
        dataset=dict(
            type='LVISV1Dataset',
            data_root=str(tmp_path),
            ann_file='annotations/lvis_v1_val.json'))))
    with pytest.raises(FileNotFoundError,
                       match=r'val_dataloader\.dataset\.dataset\.ann_file.*'
                       r'lvis_v1_val\.json'):
        check_config(cfg)


def test_data_prefix_and_metric_ann_file(tmp_path):
    (tmp_path / 'images').mkdir()
    (tmp_path / 'images' / 'a.jpg').write_bytes(b'x')
    ok = _cfg(test_dataloader=dict(dataset=dict(
        data_root=str(tmp_path), data_prefix=dict(img_path='images'))))
    check_config(ok, phase='test')
    bad = _cfg(test_dataloader=dict(dataset=dict(
        data_root=str(tmp_path), data_prefix=dict(seg_map_path='labels'))))
    with pytest.raises(FileNotFoundError,
                       match=r'data_prefix\.seg_map_path'):
        check_config(bad, phase='test')
    metric = _cfg(test_evaluator=dict(
        type='CocoMetric', ann_file=str(tmp_path / 'instances.json')))
    with pytest.raises(FileNotFoundError, match='test_evaluator.ann_file'):
        check_config(metric, phase='test')


def _imagenet_like(root, lines):
    (root / 'train' / 'n01').mkdir(parents=True)
    (root / 'train' / 'n01' / 'a.JPEG').write_bytes(b'x')
    (root / 'meta').mkdir()
    (root / 'meta' / 'train.txt').write_text(lines)
    return _cfg(train_dataloader=dict(dataset=dict(
        type='SeededDataset',
        dataset=dict(type='ImageNet', data_root=str(root), split='train'))))


def test_image_list_of_the_folder_passes(tmp_path):
    check_config(_imagenet_like(tmp_path, 'n01/a.JPEG 0\n'))


@pytest.mark.parametrize('lines, error, message', [
    ('\n', ValueError, r'lists no images; expected lines'),
    ('n01/a.JPEG zero\n', ValueError,
     r'line 1 of .*train\.txt" is "n01/a\.JPEG zero"; expected "<image '
     r'path> <integer label>"'),
    ('ILSVRC2012_val_00000001.JPEG 65\n', FileNotFoundError,
     r'line 1 of .*train\.txt" names "ILSVRC2012_val_00000001\.JPEG", which '
     r'is not in ".*train"; expected the image list of that folder'),
])
def test_wrong_image_list_is_named(tmp_path, lines, error, message):
    cfg = _imagenet_like(tmp_path, lines)
    with pytest.raises(error, match=message) as err:
        check_config(cfg)
    assert 'train_dataloader.dataset.dataset.ann_file' in str(err.value)


def _image_folder(root, sizes):
    """A CustomDataset folder of images of the given (height, width)."""
    from PIL import Image
    root.mkdir()
    for i, (height, width) in enumerate(sizes):
        Image.new('RGB', (width, height)).save(root / f'{i}.png')
    return root


def _crop_config(data_root, *crop_pipeline):
    return _cfg(
        default_scope='mmsiam',
        train_dataloader=dict(dataset=dict(
            type='SeededDataset',
            dataset=dict(
                type='CustomDataset', data_root=str(data_root),
                with_label=False,
                pipeline=[dict(type='LoadImageOrSkip'), *crop_pipeline]))))


@pytest.mark.parametrize('crop, message', [
    (dict(type='RandomCrop', crop_size=32), r'needs images of at least '
     r'32x32 \(height x width\); 1 of 3 images are smaller: .*1\.png '
     r'\(20x50\)\.'),
    # mmcv's CenterCrop takes (width, height).
    (dict(type='CenterCrop', crop_size=(45, 10)), r'needs images of at '
     r'least 10x45 \(height x width\); 2 of 3 images are smaller: '
     r'.*0\.png \(40x40\), .*2\.png \(40x40\)\.'),
])
def test_image_too_small_for_the_crop_is_named(tmp_path, crop, message):
    root = _image_folder(tmp_path / 'images', [(40, 40), (20, 50), (40, 40)])
    with pytest.raises(ValueError, match=message) as err:
        check_config(_crop_config(root, crop))
    assert str(err.value).startswith(
        f'train_dataloader.dataset.dataset.pipeline[1]: {crop["type"]} with '
        f'crop_size={crop["crop_size"]}')


@pytest.mark.parametrize('pipeline', [
    [dict(type='ResizeEdge', scale=64),
     dict(type='CenterCrop', crop_size=32)],
    [dict(type='RandomCrop', crop_size=32, pad_if_needed=True)],
    [dict(type='RandomResizedCrop', scale=224)],
])
def test_crops_that_resize_or_pad_take_any_image(tmp_path, pipeline):
    root = _image_folder(tmp_path / 'images', [(40, 40), (20, 50)])
    check_config(_crop_config(root, *pipeline))
