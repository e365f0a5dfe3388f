"""Shared fixtures: the repository paths, a command runner for the tools as a
user runs them, and small data sets generated once per session."""
import glob
import importlib.util
import json
import os
import os.path as osp
import signal
import subprocess
import sys

import pytest

from mmsiam.runtime import setup_runtime

# In-process tests run the stack as mmsiam's tools do: with its runtime
# fixes (tests/test_runtime.py checks them in fresh interpreters).
setup_runtime()

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
# The SiameseIM _demo config.
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'siameseim',
    'siameseim_vit-tiny-p8_1xb64-coslr-10e_mnist5k_demo.py')
# The ConMIM _demo config.
CONMIM_DEMO_CONFIG = osp.join(
    REPO, 'configs', 'conmim',
    'conmim_vit-tiny-p8_1xb64-amp-coslr-4e_mnist5k_demo.py')
# The MULAN-BYOL _demo config (the MoCo v3 demo inherits it).
MULAN_DEMO_CONFIG = osp.join(
    REPO, 'configs', 'mulan',
    'mulan-byol_resnet18-w16_1xb64-coslr-5e_mnist5k_demo.py')


def demo_config(method):
    """The one ``configs/*/*_demo.py`` of ``method`` ('siameseim',
    'mulan-simsiam'...: the file name up to its first '_'), whatever
    schedule its name states."""
    configs = [
        path for path in glob.glob(
            osp.join(REPO, 'configs', '*', '*_demo.py'))
        if osp.basename(path).split('_')[0] == method
    ]
    assert len(configs) == 1, (method, configs)
    return configs[0]

# Overrides that shrink the demo to a few iterations for tests.
TINY_DEMO_OPTIONS = [
    'train_dataloader.dataset.dataset.indices=64',
    'train_dataloader.batch_size=16',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=0',
    'train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
    # Every iteration's own loss in the log and scalars.json.
    'default_hooks.logger.interval=1', 'log_processor.window_size=1',
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


def tool_env(all_threads=False):
    """The environment of a tool run: this checkout on the path, and one
    OpenMP thread unless ``all_threads`` (as a user's run)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env['PYTHON'] = sys.executable
    if all_threads:
        env.pop('OMP_NUM_THREADS', None)
    else:
        env.setdefault('OMP_NUM_THREADS', '1')
    return env


def run_tool(args, cwd=REPO, timeout=600, check=True, all_threads=False):
    """Run a command-line tool; on failure show its output."""
    if args[0].endswith('.py'):
        args = [sys.executable] + list(args)
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=tool_env(all_threads),
        timeout=timeout,
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


def process_tree(pid):
    """``pid`` and all its descendants (from /proc), parents first."""
    children = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open(f'/proc/{entry}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop(0))
        todo += children.get(tree[-1], [])
    return tree


def kill_tree(pid):
    """SIGSTOP, then SIGKILL ``pid`` and every descendant (a launcher's
    workers may run in sessions of their own), as a dying node would."""
    def send(p, sig):
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass

    stopped = []
    while True:  # until no process forks a new one
        new = [p for p in process_tree(pid) if p not in stopped]
        if not new:
            break
        for p in new:
            send(p, signal.SIGSTOP)
        stopped += new
    for p in stopped:
        send(p, signal.SIGKILL)


def kill_during(args, marker, timeout=600):
    """Run a tool and SIGKILL it with all its processes as soon as its
    output shows ``marker``; returns the output so far."""
    if args[0].endswith('.py'):
        args = [sys.executable] + list(args)
    proc = subprocess.Popen(
        [str(a) for a in args], cwd=REPO, env=tool_env(),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if marker in line:
                kill_tree(proc.pid)
                break
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            kill_tree(proc.pid)
            proc.wait()
    out = ''.join(lines)
    if marker not in out:
        pytest.fail(f'{" ".join(map(str, args))} ended before "{marker}":'
                    f'\n{out[-6000:]}')
    return out


def logged_losses(work_dir):
    """``{iteration: loss}`` of every run logged in ``work_dir`` (the
    ``vis_data/scalars.json`` of each timestamped run folder)."""
    losses = {}
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'loss' in record and 'iter' in record:
                    losses[record['iter']] = record['loss']
    return losses


def assert_same_training(expected_dir, resumed_dir, checkpoint):
    """The losses of every iteration that ``resumed_dir`` logged, and the
    final checkpoint (weights, target branch, optimizer, schedulers,
    iteration counters), are exactly those of ``expected_dir``."""
    import torch

    import mmsiam  # noqa: F401  (weights_only allow-list)
    expected, resumed = (logged_losses(expected_dir),
                         logged_losses(resumed_dir))
    assert resumed and set(resumed) <= set(expected)
    assert resumed == {i: expected[i] for i in resumed}
    a, b = (torch.load(d / checkpoint, weights_only=True)
            for d in (expected_dir, resumed_dir))
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    assert_equal_nested(a['optimizer'], b['optimizer'])
    assert_equal_nested(a['param_schedulers'], b['param_schedulers'])
    for key in ('epoch', 'iter'):
        assert a['meta'][key] == b['meta'][key]


def assert_equal_nested(a, b, where='checkpoint'):
    """Containers of tensors and numbers are exactly equal."""
    import torch
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_equal_nested(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_equal_nested(x, y, f'{where}[{i}]')
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    else:
        assert a == b, where


def resume_after_kill(config, expected_dir, tmp_path, options,
                      launcher=()):
    """Train ``config`` with ``options`` into a new work dir, SIGKILL it
    during the second iteration of epoch 2 (after ``epoch_1.pth``), resume
    it with ``--resume`` and check it ends exactly as the uninterrupted run
    in ``expected_dir`` did. ``launcher``: e.g. ``[dist_train.sh]`` with the
    process count after the config."""
    work_dir = tmp_path / 'killed'
    train = list(launcher) or [osp.join(REPO, 'tools', 'train.py')]
    head = train + [config] + (['2'] if launcher else [])
    killed = kill_during(
        head + ['--work-dir', work_dir, '--cfg-options'] + options,
        'Epoch(train) [2][1/')
    assert not (work_dir / 'epoch_2.pth').exists(), killed[-3000:]
    proc = run_tool(head + ['--work-dir', work_dir, '--resume',
                            '--cfg-options'] + options, timeout=900)
    assert 'resumed epoch: 1' in proc.stdout
    assert_same_training(expected_dir, work_dir, 'epoch_2.pth')
    return proc.stdout
