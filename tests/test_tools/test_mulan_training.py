"""The MULAN _demo configs (BYOL, SimSiam, MoCo v3) through tools/train.py:
train, log the three task losses, resume with their target state."""
import os.path as osp
import re
import shutil

import pytest
import torch

from helpers import (REPO, TINY_DEMO_OPTIONS, demo_config, resume_after_kill,
                     run_tool, train_tiny)

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

TRAIN = osp.join(REPO, 'tools', 'train.py')
LOSS_RANGE = {'byol': (0, 4), 'simsiam': (-0.34, 0.34), 'mocov3': (0, 20)}


def demo(loss):
    return demo_config(f'mulan-{loss}')


@pytest.fixture(scope='module', params=sorted(LOSS_RANGE))
def mulan_run(request, tmp_path_factory):
    work_dir, stdout = train_tiny(demo(request.param), tmp_path_factory,
                                  'mulan')
    return request.param, work_dir, stdout


def test_demo_trains_with_three_tasks(mulan_run):
    loss, work_dir, stdout = mulan_run
    low, high = LOSS_RANGE[loss]
    for task in ('global', 'local', 'cutout'):
        values = re.findall(rf'loss_{task}: (-?[0-9.]+)', stdout)
        assert len(values) == 8  # 2 epochs x 4 iterations
        assert all(low <= float(v) <= high for v in values)
    state = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    assert int(state['state_dict']['target.steps']) == 8
    assert {'head.predictors.global.fc0.weight',
            'head.predictors.local.fc0.weight',
            'head.predictors.cutout.fc0.weight'} <= set(state['state_dict'])


def test_demo_resumes(mulan_run, tmp_path):
    loss, trained, _ = mulan_run
    work_dir = tmp_path / 'work_dir'
    shutil.copytree(trained, work_dir)
    options = [o for o in TINY_DEMO_OPTIONS if 'max_epochs' not in o]
    proc = run_tool([TRAIN, demo(loss), '--work-dir', work_dir, '--resume',
                     '--cfg-options', 'train_cfg.max_epochs=3'] + options)
    assert 'resumed epoch: 2, iter: 8' in proc.stdout
    assert 'Epoch(train) [3][4/4]' in proc.stdout
    state = torch.load(work_dir / 'epoch_3.pth', weights_only=False)
    assert int(state['state_dict']['target.steps']) == 12


def test_demo_resumes_exactly_after_a_kill(mulan_run, tmp_path):
    loss, trained, _ = mulan_run
    resume_after_kill(demo(loss), trained, tmp_path, TINY_DEMO_OPTIONS)
