"""pytest fixtures: small data sets and tiny training runs, made once per
session. Shared functions and paths are in ``tests/helpers``."""
import os
import os.path as osp

import pytest

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, DEMO_PRETRAIN_CONFIG,
                     DIST_OPTIONS, DIST_TRAIN, REPO, export_backbone,
                     run_tool, train_tiny)
from helpers.tools import SLOW_TESTS
from mmsiam.runtime import setup_runtime

# Tests compare runs bit for bit (resumes, ranks, runs with and without a
# monitor); a measured attention kernel can differ between processes
# (mmsiam.models.layers.KernelChoice), so the suite forces one. The tests
# of the measurement set 'auto' themselves.
os.environ.setdefault('MMSIAM_ATTENTION_KERNEL', 'sdpa')

# In-process tests run the stack as mmsiam's tools do: with its runtime
# fixes (tests/test_runtime.py checks them in fresh interpreters).
setup_runtime()


def pytest_collection_modifyitems(items):
    """Record the ``slow`` tests: only they may run tools in subprocesses
    (``helpers.tools.require_slow_mark``)."""
    SLOW_TESTS.update(item.nodeid for item in items
                      if item.get_closest_marker('slow'))


@pytest.fixture(scope='session')
def tiny_benchmarks(tmp_path_factory):
    """Tiny COCO / LVIS / ADE20k sets written by the real generator tool."""
    out = tmp_path_factory.mktemp('tiny') / 'data'
    run_tool([
        osp.join(REPO, 'tools', 'misc', 'make_tiny_datasets.py'), out,
        '--num-train', 4, '--num-val', 3
    ])
    return out


@pytest.fixture(scope='session')
def demo_run(tmp_path_factory):
    """The SiameseIM demo config trained for 2 tiny epochs."""
    return train_tiny(DEMO_CONFIG, tmp_path_factory, 'demo')


@pytest.fixture(scope='session')
def dist_run(tmp_path_factory):
    """The SiameseIM demo trained by 2 processes (tools/dist_train.sh) for 2
    tiny epochs."""
    work_dir = tmp_path_factory.mktemp('dist') / 'work_dir'
    proc = run_tool([DIST_TRAIN, DEMO_CONFIG, 2, '--work-dir', work_dir,
                     '--cfg-options'] + DIST_OPTIONS, timeout=900)
    return work_dir, proc.stdout


@pytest.fixture(scope='session')
def backbone_checkpoint(demo_run, tmp_path_factory):
    """``backbone.*`` weights of the tiny SiameseIM run (online encoder)."""
    return export_backbone(demo_run[0], tmp_path_factory, 'siameseim')


@pytest.fixture(scope='session')
def make_demo_run(tmp_path_factory):
    """`make demo`'s config (MULAN-MoCo v3, width-16 ResNet-18) trained
    for 2 tiny epochs."""
    return train_tiny(DEMO_PRETRAIN_CONFIG, tmp_path_factory, 'make_demo')


@pytest.fixture(scope='session')
def mulan_backbone_checkpoint(make_demo_run, tmp_path_factory):
    """The width-16 ResNet-18 of the tiny `make demo` run, exported."""
    return export_backbone(make_demo_run[0], tmp_path_factory, 'mulan')


@pytest.fixture(scope='session')
def conmim_run(tmp_path_factory):
    """The ConMIM demo config trained for 2 tiny epochs."""
    return train_tiny(CONMIM_DEMO_CONFIG, tmp_path_factory, 'conmim')


@pytest.fixture(scope='session')
def conmim_backbone_checkpoint(conmim_run, tmp_path_factory):
    """The teacher encoder of the tiny ConMIM run, as exported by default."""
    return export_backbone(conmim_run[0], tmp_path_factory, 'conmim')
