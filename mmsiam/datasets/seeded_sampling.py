"""Per-sample augmentation seeds, for runs that resume exactly.

Random augmentations (crops, flips, colour, masks) draw from the global
generators of the process that runs the pipeline. With mmengine's defaults
those streams depend on the history of the run: persistent data-loader
workers continue them across epochs, and a resumed run restarts them, so it
sees different views than the uninterrupted run would have. Here the
sampler hands every sample a seed that depends only on (sampler seed, epoch,
dataset index), and the dataset wrapper seeds Python's ``random``, NumPy and
torch with it before running the pipeline. A sample's views are then the
same whatever the number of workers, their persistence, or where a run was
interrupted.

Use both together::

    train_dataloader = dict(
        sampler=dict(type='SeededSampler', shuffle=True),
        dataset=dict(type='SeededDataset', dataset=dict(type=..., ...)))
"""
from typing import Iterator, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import DefaultSampler
from torch.utils.data import Dataset, get_worker_info

from mmsiam.registry import DATA_SAMPLERS, DATASETS
from mmsiam.utils.random_state import preserved_random_state, seed_all

# (dataset index, augmentation seed)
SampleKey = Tuple[int, int]


def epoch_sample_seeds(seed: int, epoch: int, size: int) -> torch.Tensor:
    """Augmentation seeds ``(size,)`` int64 in ``[0, 2**32)`` for every
    dataset index in ``epoch``; the same on every process."""
    entropy = np.random.SeedSequence([seed, epoch]).generate_state(2)
    generator = torch.Generator().manual_seed(
        int(entropy[0]) << 32 | int(entropy[1]))
    return torch.randint(0, 2**32, (size, ), generator=generator)


@DATASETS.register_module()
class SeededDataset(Dataset):
    """A dataset whose pipeline runs under the seed its sampler gives.

    ``dataset[(index, seed)]`` seeds Python's ``random``, NumPy's global
    generator and torch's with ``seed``, then returns ``dataset[index]``. In
    a data-loader worker the generators are the worker's own; in the main
    process (``num_workers=0``) they are restored afterwards. A plain
    ``dataset[index]`` is passed through unseeded.

    Args:
        dataset (dict | Dataset): The dataset (e.g. ``ImageNet`` with the
            method's pipeline).
    """

    def __init__(self, dataset: Union[dict, Dataset], **misplaced):
        if misplaced:
            keys = ', '.join(sorted(misplaced))
            raise TypeError(
                f'SeededDataset got {keys}, which belong to the dataset it '
                'wraps: set them as train_dataloader.dataset.dataset.<key> '
                f'(e.g. dataset=dict(dataset=dict({sorted(misplaced)[0]}='
                '...))), not train_dataloader.dataset.<key>')
        self.dataset = (DATASETS.build(dataset)
                        if isinstance(dataset, dict) else dataset)

    @property
    def metainfo(self) -> dict:
        return getattr(self.dataset, 'metainfo', {})

    def full_init(self) -> None:
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: Union[int, SampleKey]):
        if not isinstance(key, (tuple, list)):
            return self.dataset[key]
        index, seed = key
        if get_worker_info() is not None:
            seed_all(seed)
            return self.dataset[index]
        with preserved_random_state():
            seed_all(seed)
            return self.dataset[index]


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` (the same order, ranks and padding)
    that pairs every index with its augmentation seed for this epoch.

    Yields ``(index, seed)`` with ``seed`` from :func:`epoch_sample_seeds`
    for the sampler's seed (the runner's, shared by all ranks) and the epoch
    set by ``set_epoch``.

    Args:
        dataset (SeededDataset): The wrapped dataset.
        **kwargs: ``DefaultSampler`` arguments (``shuffle``, ``seed``,
            ``round_up``).
    """

    def __init__(self, dataset: SeededDataset, **kwargs):
        if not isinstance(dataset, SeededDataset):
            raise TypeError(
                'SeededSampler needs its dataset wrapped in SeededDataset: '
                "set train_dataloader.dataset = dict(type='SeededDataset', "
                f'dataset=...); got {type(dataset).__name__}')
        super().__init__(dataset, **kwargs)

    def __iter__(self) -> Iterator[SampleKey]:
        seeds = epoch_sample_seeds(self.seed, self.epoch, len(self.dataset))
        for index in super().__iter__():
            yield index, int(seeds[index])


def unwrap_seeded(dataset_cfg: dict) -> dict:
    """The config of the dataset inside a ``SeededDataset`` config (the one
    with the pipeline), or ``dataset_cfg`` itself."""
    if dataset_cfg.get('type') in ('SeededDataset', 'mmsiam.SeededDataset'):
        return dataset_cfg['dataset']
    return dataset_cfg
