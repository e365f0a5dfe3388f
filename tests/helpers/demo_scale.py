"""Benchmark configs run as docs/downstream.md runs them on a CPU:
``--demo-scale DATA_DIR`` with the backbone from a tiny ``_demo``
pretraining's export."""
import os.path as osp

from .paths import REPO
from .tools import run_tool

TRAIN = osp.join(REPO, 'tools', 'train.py')


def benchmark_launcher(family):
    """``tools/benchmarks/<family>/dist_train.sh``."""
    return osp.join(REPO, 'tools', 'benchmarks', family, 'dist_train.sh')


def run_demo_scale(config, checkpoint, data_dir, work_dir, *options,
                   check=True):
    """``tools/train.py CONFIG --demo-scale DATA_DIR`` with the backbone
    from ``checkpoint`` (``--cfg-options`` as the launchers set it, then
    ``options``); returns the finished process."""
    return run_tool([
        TRAIN, config, '--demo-scale', data_dir, '--work-dir', work_dir,
        '--cfg-options', f'model.backbone.init_cfg.checkpoint={checkpoint}',
        *options
    ], timeout=900, check=check)


def run_demo_scale_launcher(family, config, checkpoint, data_dir, work_dir,
                            processes=2):
    """The documented command: ``tools/benchmarks/<family>/dist_train.sh
    CONFIG CHECKPOINT N --demo-scale DATA_DIR``."""
    return run_tool([
        benchmark_launcher(family), config, checkpoint, processes,
        '--demo-scale', data_dir, '--work-dir', work_dir
    ], timeout=900)
