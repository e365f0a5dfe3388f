"""The MULAN-BYOL _demo config through tools/train.py: trains, logs the
three task losses, resumes with its target state."""
import os.path as osp
import re
import shutil

import pytest
import torch

from conftest import REPO, TINY_DEMO_OPTIONS, run_tool, train_tiny

DEMO = osp.join(REPO, 'configs', 'mulan',
                'mulan-byol_resnet18-w16_1xb64-coslr-3e_mnist5k_demo.py')
TRAIN = osp.join(REPO, 'tools', 'train.py')


@pytest.fixture(scope='module')
def mulan_run(tmp_path_factory):
    return train_tiny(DEMO, tmp_path_factory, 'mulan')


def test_demo_trains_with_three_tasks(mulan_run):
    work_dir, stdout = mulan_run
    for task in ('global', 'local', 'cutout'):
        values = re.findall(rf'loss_{task}: ([0-9.]+)', stdout)
        assert len(values) == 8  # 2 epochs x 4 iterations
        assert all(0 <= float(v) <= 4 for v in values)
    state = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    assert int(state['state_dict']['target.steps']) == 8
    assert {'head.predictors.global.fc0.weight',
            'head.predictors.local.fc0.weight',
            'head.predictors.cutout.fc0.weight'} <= set(state['state_dict'])


def test_demo_resumes(mulan_run, tmp_path):
    work_dir = tmp_path / 'work_dir'
    shutil.copytree(mulan_run[0], work_dir)
    options = [o for o in TINY_DEMO_OPTIONS if 'max_epochs' not in o]
    proc = run_tool([TRAIN, DEMO, '--work-dir', work_dir, '--resume',
                     '--cfg-options', 'train_cfg.max_epochs=3'] + options)
    assert 'resumed epoch: 2, iter: 8' in proc.stdout
    assert 'Epoch(train) [3][4/4]' in proc.stdout
    state = torch.load(work_dir / 'epoch_3.pth', weights_only=False)
    assert int(state['state_dict']['target.steps']) == 12
