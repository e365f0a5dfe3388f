"""Shared fixtures: the repository paths, a command runner for the tools as a
user runs them, and small data sets generated once per session."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# The SiameseIM _demo config (configs/demo/demo_pretrain.py inherits it).
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'siameseim',
    'siameseim_vit-tiny-p8_1xb64-amp-coslr-8e_mnist5k_demo.py')
# The ConMIM _demo config.
CONMIM_DEMO_CONFIG = osp.join(
    REPO, 'configs', 'conmim',
    'conmim_vit-tiny-p8_1xb64-amp-coslr-4e_mnist5k_demo.py')
# Overrides that shrink the demo to a few iterations for tests.
TINY_DEMO_OPTIONS = [
    'train_dataloader.dataset.indices=64', 'train_dataloader.batch_size=16',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=0',
    'train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
    'default_hooks.logger.interval=1',
    # kNN monitor: 8 train digits per class as the bank, 4 per class queried,
    # in the main process.
    'val_cfg.bank_dataloader.dataset.num_per_class=8',
    'val_dataloader.dataset.num_per_class=4',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=0',
    'val_cfg.bank_dataloader.num_workers=0',
    'val_cfg.bank_dataloader.persistent_workers=0'
]


def build_model(config, init=True, **model_options):
    """The model of ``config`` (``model`` updated with ``model_options``),
    built in the mmsiam scope and, by default, initialised."""
    from mmengine import DefaultScope
    from mmengine.config import Config

    from mmsiam.registry import MODELS
    from mmsiam.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.update(model_options)
    with DefaultScope.overwrite_default_scope('mmsiam'):
        model = MODELS.build(cfg.model)
    if init:
        model.init_weights()
    return model


def load_tool(relpath):
    """Import a script under tools/ by path, as a module."""
    path = osp.join(REPO, 'tools', relpath)
    name = 'tool_' + relpath.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tool_env():
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env['PYTHON'] = sys.executable
    env.setdefault('OMP_NUM_THREADS', '1')
    return env


def run_tool(args, cwd=REPO, timeout=600, check=True):
    """Run a command-line tool; on failure show its output."""
    if args[0].endswith('.py'):
        args = [sys.executable] + list(args)
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=tool_env(), timeout=timeout,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f'{" ".join(map(str, args))} exited with '
                    f'{proc.returncode}:\n{proc.stdout[-6000:]}')
    return proc


@pytest.fixture(scope='session')
def tiny_benchmarks(tmp_path_factory):
    """Tiny COCO / LVIS / ADE20k sets written by the real generator tool."""
    out = tmp_path_factory.mktemp('tiny') / 'data'
    run_tool([
        osp.join(REPO, 'tools', 'misc', 'make_tiny_datasets.py'), out,
        '--num-train', 4, '--num-val', 3
    ])
    return out


def train_tiny(config, tmp_path_factory, name):
    """``config`` trained for 2 tiny epochs through tools/train.py;
    returns the work dir and the output."""
    work_dir = tmp_path_factory.mktemp(name) / 'work_dir'
    proc = run_tool([
        osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', work_dir,
        '--cfg-options'
    ] + TINY_DEMO_OPTIONS)
    return work_dir, proc.stdout


def export_backbone(work_dir, tmp_path_factory, name):
    """The default branch of ``work_dir/epoch_2.pth`` as extract_backbone.py
    exports it."""
    out = tmp_path_factory.mktemp('export') / f'{name}_backbone.pth'
    run_tool([
        osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py'),
        work_dir / 'epoch_2.pth', out
    ])
    return out


@pytest.fixture(scope='session')
def demo_run(tmp_path_factory):
    """The SiameseIM demo config trained for 2 tiny epochs."""
    return train_tiny(DEMO_CONFIG, tmp_path_factory, 'demo')


@pytest.fixture(scope='session')
def backbone_checkpoint(demo_run, tmp_path_factory):
    """``backbone.*`` weights of the tiny SiameseIM run (online encoder)."""
    return export_backbone(demo_run[0], tmp_path_factory, 'siameseim')


@pytest.fixture(scope='session')
def conmim_run(tmp_path_factory):
    """The ConMIM demo config trained for 2 tiny epochs."""
    return train_tiny(CONMIM_DEMO_CONFIG, tmp_path_factory, 'conmim')


@pytest.fixture(scope='session')
def conmim_backbone_checkpoint(conmim_run, tmp_path_factory):
    """The teacher encoder of the tiny ConMIM run, as exported by default."""
    return export_backbone(conmim_run[0], tmp_path_factory, 'conmim')
