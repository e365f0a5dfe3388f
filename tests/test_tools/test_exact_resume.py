"""Kill a training run with SIGKILL between checkpoints, resume it with
``--resume``: it ends bit-identical to the uninterrupted run (losses of every
resumed iteration, weights, target branch, optimizer, schedulers)."""
import os.path as osp
import re

import pytest
import torch

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, DIST_TRAIN, REPO,
                     TINY_DEMO_OPTIONS, assert_same_training,
                     resume_after_kill, run_tool)

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow


def test_siameseim_resumes_exactly(demo_run, tmp_path):
    out = resume_after_kill(DEMO_CONFIG, demo_run[0], tmp_path,
                            TINY_DEMO_OPTIONS)
    assert 'Epoch(train) [2][4/4]' in out
    # The killed process left no half-written file behind.
    assert not list((tmp_path / 'killed').rglob('*.partial'))


def test_conmim_resumes_exactly(conmim_run, tmp_path):
    resume_after_kill(CONMIM_DEMO_CONFIG, conmim_run[0], tmp_path,
                      TINY_DEMO_OPTIONS)


@pytest.mark.parametrize('processes', [1, 2])
def test_measured_kernels_resume_exactly(tmp_path, monkeypatch, processes):
    """With measured attention kernels (the default; the suite forces
    one), a run resumed from ``epoch_1.pth`` takes back each process's
    choices from the checkpoint instead of timing anew, and ends
    bit-identical to the run it continues. Two processes: only process 0
    saves, so the choices are gathered before (a collective in the save
    itself hung process 0)."""
    monkeypatch.setenv('MMSIAM_ATTENTION_KERNEL', 'auto')
    head = ([osp.join(REPO, 'tools', 'train.py'), DEMO_CONFIG]
            if processes == 1 else [DIST_TRAIN, DEMO_CONFIG, '2'])
    first = tmp_path / 'first'
    run = run_tool(head + ['--work-dir', first, '--cfg-options']
                   + TINY_DEMO_OPTIONS, timeout=900)
    states = torch.load(first / 'epoch_1.pth',
                        weights_only=True)['meta']['attention_kernels']
    assert len(states) == processes
    chosen = dict(states[0]['chosen'])
    assert chosen and set(chosen.values()) <= {'sdpa', 'explicit'}
    assert all(state['chosen'] for state in states)
    for signature, name in chosen.items():
        assert f'attention kernel for {signature}: {name} (' in run.stdout
    resumed = run_tool(head + ['--work-dir', tmp_path / 'resumed',
                               '--resume', first / 'epoch_1.pth',
                               '--cfg-options'] + TINY_DEMO_OPTIONS,
                       timeout=900)
    assert (f"attention kernels: took {len(chosen)} of the checkpoint's "
            f'{len(chosen)} choices') in resumed.stdout
    assert not re.search('attention kernel for .*, forward',
                         resumed.stdout)
    assert_same_training(first, tmp_path / 'resumed', 'epoch_2.pth')
