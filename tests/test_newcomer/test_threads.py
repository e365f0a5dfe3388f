"""Newcomer item 12 (issue #33): tools/train.py fits its intra-op threads
to the cores its data-loader workers leave (2 OpenMP threads beside 2
workers on 2 shared cores made `make demo` take 20 minutes), logs the
choice, and --threads overrides it."""
import os

import pytest
import torch
from mmengine.config import Config

from helpers import DEMO_PRETRAIN_CONFIG, load_tool

train = load_tool('train.py')


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_threads_fit_the_cores_the_workers_leave(monkeypatch,
                                                 restore_threads):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    cfg = Config.fromfile(DEMO_PRETRAIN_CONFIG)
    cores = len(os.sched_getaffinity(0))
    workers = cfg.train_dataloader.num_workers
    assert workers >= 1
    for processes in (1, 2):
        monkeypatch.setenv('LOCAL_WORLD_SIZE', str(processes))
        line = train.set_threads(cfg)
        expected = max(1, cores // processes - workers)
        assert torch.get_num_threads() == expected
        assert line.startswith(f'Threads: {expected} per process ({cores} '
                               f'cores for {processes} process(es), '
                               f'{workers} data-loader worker(s) each')


def test_threads_option_and_omp_num_threads_win(monkeypatch,
                                                restore_threads):
    cfg = Config.fromfile(DEMO_PRETRAIN_CONFIG)
    assert train.set_threads(cfg, 3) == 'Threads: 3 per process (--threads)'
    assert torch.get_num_threads() == 3
    monkeypatch.setenv('OMP_NUM_THREADS', '2')
    torch.set_num_threads(2)
    assert train.set_threads(cfg) == \
        'Threads: 2 per process (OMP_NUM_THREADS=2)'
    with pytest.raises(ValueError, match='--threads 0'):
        train.set_threads(cfg, 0)
