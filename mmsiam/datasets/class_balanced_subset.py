from typing import Union

import numpy as np
from torch.utils.data import Dataset

from mmsiam.registry import DATASETS


@DATASETS.register_module()
class ClassBalancedSubset(Dataset):
    """The same number of random samples of every class of a dataset.

    For kNN monitoring on a large labelled set (e.g. 100 ImageNet images per
    class as the memory bank). The choice depends only on ``seed`` and the
    labels; samples keep their dataset order and ``sample_idx`` is the index
    in the subset.

    Args:
        dataset (dict | Dataset): A dataset with ``get_gt_labels()`` (every
            mmpretrain classification dataset).
        num_per_class (int): Samples per class; a class with fewer is an
            error naming it.
        seed (int): Seed of the choice. Defaults to 0.
    """

    def __init__(self,
                 dataset: Union[dict, Dataset],
                 num_per_class: int,
                 seed: int = 0):
        self.dataset = (DATASETS.build(dataset)
                        if isinstance(dataset, dict) else dataset)
        if num_per_class < 1:
            raise ValueError('ClassBalancedSubset: num_per_class must be >= '
                             f'1, got {num_per_class}')
        labels = np.asarray(self.dataset.get_gt_labels())
        rng = np.random.default_rng(seed)
        chosen = []
        for label in np.unique(labels):
            members = np.flatnonzero(labels == label)
            if len(members) < num_per_class:
                raise ValueError(
                    f'ClassBalancedSubset: class {label} of '
                    f'{type(self.dataset).__name__} has {len(members)} '
                    f'samples, fewer than num_per_class={num_per_class}')
            chosen.append(rng.choice(members, num_per_class, replace=False))
        self.indices = np.sort(np.concatenate(chosen))
        self.metainfo = getattr(self.dataset, 'metainfo', {})

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> dict:
        sample = self.dataset[int(self.indices[idx])]
        if 'data_samples' in sample:
            sample['data_samples'].set_metainfo(dict(sample_idx=idx))
        return sample
