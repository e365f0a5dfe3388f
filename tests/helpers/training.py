"""Checks that two training runs are the same run: logged losses and the
full checkpoint state, after a kill and ``--resume``."""
import json
import os.path as osp

from .paths import REPO
from .tools import kill_during, kill_tree, run_tool


def logged_scalars(work_dir, key, step='iter'):
    """``{step: value}`` of the scalar ``key`` over every run logged in
    ``work_dir`` (the ``vis_data/scalars.json`` of each timestamped run
    folder); ``step``: 'iter' for training scalars, 'step' (the epoch) for
    validation metrics."""
    values = {}
    for path in sorted(work_dir.glob('*/vis_data/scalars.json')):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if key in record and step in record:
                    values[record[step]] = record[key]
    return values


def logged_losses(work_dir):
    """``{iteration: loss}`` of every run logged in ``work_dir``."""
    return logged_scalars(work_dir, 'loss')


def assert_same_training(expected_dir, resumed_dir, checkpoint):
    """The losses of every iteration that ``resumed_dir`` logged, and the
    final checkpoint (weights, target branch, optimizer, schedulers,
    iteration counters), are exactly those of ``expected_dir``."""
    import torch
    expected, resumed = (logged_losses(expected_dir),
                         logged_losses(resumed_dir))
    assert resumed and set(resumed) <= set(expected)
    assert resumed == {i: expected[i] for i in resumed}
    # The kNN monitor of the resumed epochs (issue #33 item 13: 60.8
    # after a resume against 60.4, with bit-identical weights).
    knn = logged_scalars(resumed_dir, 'knn/top1', step='step')
    expected_knn = logged_scalars(expected_dir, 'knn/top1', step='step')
    assert {e: expected_knn.get(e) for e in knn} == knn
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
                      launcher=(), args=(), kill=kill_tree):
    """Train ``config`` with ``options`` into a new work dir, SIGKILL it
    during the second iteration of epoch 2 (after ``epoch_1.pth``), resume
    it with ``--resume`` and check it ends exactly as the uninterrupted run
    in ``expected_dir`` did. ``launcher``: e.g. ``[dist_train.sh]`` with the
    process count after the config; ``args``: more train.py arguments (e.g.
    ``['--strategy', 'fsdp']``); ``kill(pid)`` kills the launcher (default:
    it and all its processes)."""
    work_dir = tmp_path / 'killed'
    train = list(launcher) or [osp.join(REPO, 'tools', 'train.py')]
    head = train + [config] + (['2'] if launcher else []) + list(args)
    killed = kill_during(
        head + ['--work-dir', work_dir, '--cfg-options'] + options,
        'Epoch(train) [2][1/', kill=kill)
    assert not (work_dir / 'epoch_2.pth').exists(), killed[-3000:]
    proc = run_tool(head + ['--work-dir', work_dir, '--resume',
                            '--cfg-options'] + options, timeout=900)
    assert 'resumed epoch: 1' in proc.stdout
    assert_same_training(expected_dir, work_dir, 'epoch_2.pth')
    return proc.stdout
