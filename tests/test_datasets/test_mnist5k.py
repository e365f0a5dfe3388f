import numpy as np
import pytest

from mmsiam.datasets import MNIST5k


def test_splits_are_disjoint_and_balanced():
    train, val = MNIST5k(split='train'), MNIST5k(split='val')
    assert len(train) == 4000 and len(val) == 1000
    for ds, per_class in ((train, 400), (val, 100)):
        labels = np.array([ds.get_data_info(i)['gt_label']
                           for i in range(len(ds))])
        assert np.bincount(labels).tolist() == [per_class] * 10
    train_idx = {train.get_data_info(i)['csv_row'] for i in range(4000)}
    val_idx = {val.get_data_info(i)['csv_row'] for i in range(1000)}
    assert not train_idx & val_idx
    assert len(MNIST5k(split='all')) == 5000


def test_images_are_real_digits():
    info = MNIST5k(split='val').get_data_info(0)
    img = info['img']
    assert img.shape == (28, 28, 3) and img.dtype == np.uint8
    assert (img[..., 0] == img[..., 2]).all()
    # A handwritten stroke: mostly black background, some bright pixels.
    assert (img == 0).mean() > 0.5 and img.max() > 200


def test_pipeline_output():
    ds = MNIST5k(
        split='val',
        pipeline=[
            dict(type='RandomResizedCrop', scale=32, backend='pillow'),
            dict(type='PackInputs')
        ])
    out = ds[0]
    assert tuple(out['inputs'].shape) == (3, 32, 32)
    assert out['data_samples'].gt_label.item() == 0


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(ValueError, match='split="test"'):
        MNIST5k(split='test')
    missing = str(tmp_path / 'mnist.csv.gz')
    with pytest.raises(FileNotFoundError, match='csv_path.*mnist.csv.gz'):
        MNIST5k(csv_path=missing)
