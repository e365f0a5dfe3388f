"""SeededSampler / SeededDataset: a sample's views depend only on (seed,
epoch, index), whatever the workers and wherever a run restarts."""
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler, default_collate
from torch.utils.data import DataLoader

from helpers import DEMO_CONFIG
from mmsiam.datasets import SeededDataset, SeededSampler, unwrap_seeded
from mmsiam.registry import DATASETS


@pytest.fixture(scope='module')
def dataset():
    from mmengine import DefaultScope

    from mmsiam.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(DEMO_CONFIG).train_dataloader.dataset
    assert cfg.type == 'SeededDataset'
    inner = unwrap_seeded(cfg)
    inner.indices = 24
    with DefaultScope.overwrite_default_scope('mmsiam'):
        return DATASETS.build(cfg)


def epochs(dataset, num_workers, persistent, first_epoch, last_epoch):
    """Batches (images of both views) of epochs first..last of one
    loader."""
    sampler = SeededSampler(dataset, shuffle=True, seed=7)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler,
                        num_workers=num_workers, collate_fn=default_collate,
                        persistent_workers=persistent)
    batches = []
    for epoch in range(first_epoch, last_epoch + 1):
        sampler.set_epoch(epoch)
        batches.append([torch.cat(b['inputs']) for b in loader])
    return batches


def test_order_is_default_samplers(dataset):
    seeded, default = (SeededSampler(dataset, seed=3),
                       DefaultSampler(dataset, seed=3))
    for sampler in (seeded, default):
        sampler.set_epoch(2)
    keys = list(seeded)
    assert [index for index, _ in keys] == list(default)
    # Seeds: per index, new each epoch, the same for the same epoch.
    assert len({seed for _, seed in keys}) == len(keys)
    again = dict(iter(seeded))
    seeded.set_epoch(3)
    assert again == dict(keys) and dict(iter(seeded)) != dict(keys)


def test_views_do_not_depend_on_workers_or_restarts(dataset):
    # Persistent workers continue their generators from epoch to epoch; a
    # resumed run starts new ones at epoch 2. Same views either way.
    uninterrupted = epochs(dataset, 2, True, 0, 2)
    resumed = epochs(dataset, 0, False, 2, 2)
    assert len(uninterrupted[2]) == 3
    for a, b in zip(uninterrupted[2], resumed[0]):
        assert torch.equal(a, b)
    # ...and the augmentations do differ between epochs.
    assert not torch.equal(uninterrupted[1][0], uninterrupted[2][0])


def test_main_process_generators_are_left_alone(dataset):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    dataset[(5, 123)]
    assert torch.equal(torch.rand(3), expected)
    assert torch.equal(dataset[(5, 123)]['inputs'][0],
                       dataset[(5, 123)]['inputs'][0])


def test_misuse_is_explained(dataset):
    with pytest.raises(TypeError, match='wrapped in SeededDataset'):
        SeededSampler(dataset.dataset)
    with pytest.raises(TypeError,
                       match=r'train_dataloader\.dataset\.dataset\.<key>'):
        SeededDataset(dict(type='MNIST5k'), pipeline=[])
