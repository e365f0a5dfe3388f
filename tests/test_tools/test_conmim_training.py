"""The ConMIM _demo config through tools/train.py and tools/dist_train.sh,
and the teacher's EMA inside a real Runner (after each optimizer step)."""
import os.path as osp
import re
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from helpers import CONMIM_DEMO_CONFIG, REPO, TINY_DEMO_OPTIONS, run_tool
from mmsiam.utils import register_all_modules

DEMO = CONMIM_DEMO_CONFIG
TRAIN = osp.join(REPO, 'tools', 'train.py')


def steps_in(checkpoint):
    state = torch.load(checkpoint, map_location='cpu', weights_only=False)
    return int(state['state_dict']['target.steps'])


@pytest.mark.slow
def test_demo_trains_and_updates_the_teacher_every_iteration(conmim_run):
    work_dir, stdout = conmim_run
    losses = [float(x) for x in re.findall(r'\bloss: ([0-9.]+)', stdout)]
    assert len(losses) == 8  # 2 epochs x 4 iterations
    assert all(0 < loss < 10 for loss in losses)
    assert re.search(r'momentum: 0\.00\d+', stdout)
    assert steps_in(work_dir / 'epoch_1.pth') == 4
    assert steps_in(work_dir / 'epoch_2.pth') == 8


@pytest.mark.slow
def test_demo_resumes_with_the_teacher_state(conmim_run, tmp_path):
    work_dir = tmp_path / 'work_dir'
    shutil.copytree(conmim_run[0], work_dir)
    options = [o for o in TINY_DEMO_OPTIONS if 'max_epochs' not in o]
    proc = run_tool([TRAIN, DEMO, '--work-dir', work_dir, '--resume',
                     '--cfg-options', 'train_cfg.max_epochs=3'] + options)
    assert 'resumed epoch: 2, iter: 8' in proc.stdout
    assert 'Epoch(train) [3][4/4]' in proc.stdout
    assert steps_in(work_dir / 'epoch_3.pth') == 12


@pytest.mark.slow
def test_two_processes_train_conmim(tmp_path):
    work_dir = tmp_path / 'work_dir'
    proc = run_tool([
        osp.join(REPO, 'tools', 'dist_train.sh'), DEMO, 2, '--work-dir',
        work_dir, '--cfg-options'
    ] + TINY_DEMO_OPTIONS, timeout=900)
    assert 'Distributed training: True' in proc.stdout
    assert 'Epoch(train) [2][2/2]' in proc.stdout
    assert steps_in(work_dir / 'epoch_2.pth') == 4


class RecordStudent(Hook):
    """Keeps the teacher at the start and the student after every
    optimizer step (this hook runs before the EMA hook)."""
    priority = 'HIGHEST'

    def before_train(self, runner):
        self.teacher0 = self._params(runner.model.target.module[0])
        self.students = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.students.append(self._params(runner.model.backbone))

    @staticmethod
    def _params(module):
        return {k: v.detach().clone() for k, v in module.named_parameters()}


def test_teacher_is_the_ema_of_students_after_each_step(tmp_path):
    """t_{k+1} = m_k t_k + (1 - m_k) s_{k+1}, s_{k+1} the student after
    optimizer step k, m_k = 1 - 0.002 (1 + cos(pi k / K))."""
    register_all_modules()
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict({
        'train_dataloader.dataset.dataset.indices': 48,
        'train_dataloader.batch_size': 16,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_cfg.max_epochs': 1,
        'default_hooks.checkpoint.interval': 100,
    })
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    record = RecordStudent()
    runner.register_hook(record)
    runner.train()
    total = len(record.students)
    assert total == 3
    expected = record.teacher0
    for k, student in enumerate(record.students):
        m = 1 - 0.002 * (1 + torch.cos(torch.tensor(torch.pi * k / total,
                                                    dtype=torch.float64)))
        expected = {name: m * expected[name] + (1 - m) * student[name]
                    for name in expected}
    teacher = runner.model.target.module[0]
    for name, param in teacher.named_parameters():
        assert torch.allclose(param, expected[name].float(), atol=1e-6), name
    assert int(runner.model.target.steps) == total
