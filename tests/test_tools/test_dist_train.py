"""tools/dist_train.sh with 2 CPU processes over gloo."""
import re

import pytest

from helpers import DEMO_CONFIG, DIST_OPTIONS, DIST_TRAIN, resume_after_kill

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow


def test_two_processes_train_together(dist_run, demo_run):
    work_dir, out = dist_run
    assert 'Distributed training: True' in out
    # 128 samples shared by 2 ranks at batch 16: 4 iterations per epoch (a
    # single process would run 8).
    assert 'Epoch(train) [2][4/4]' in out
    assert '[2][8/8]' not in out
    # Only rank 0 logs and saves.
    assert len(re.findall(r'Epoch\(train\) \[1\]\[1/4\]', out)) == 1
    assert out.count('Checkpoint: ') == 1
    assert sorted(p.name for p in work_dir.glob('*.pth')) == [
        'epoch_1.pth', 'epoch_2.pth'
    ]
    # kNN features gathered from both ranks: before training (the same
    # initial weights) the accuracy is the single-process run's, up to one
    # of the 40 queries (features of other batch sizes differ in the last
    # bits, which can reorder near ties).
    assert 'kNN memory bank: 1/1 batches (2 process(es))' in out
    knn = re.compile(r'Epoch\(val\) \[0\]\S*\s+knn/top1: ([0-9.]+)')
    (two, ), (one, ) = knn.findall(out), knn.findall(demo_run[1])
    assert abs(float(two) - float(one)) <= 100 / 40 + 1e-6


def test_killed_distributed_run_resumes_exactly(dist_run, tmp_path):
    """SIGKILL of the launcher and both workers in epoch 2, then
    ``dist_train.sh ... 2 --resume``."""
    out = resume_after_kill(DEMO_CONFIG, dist_run[0], tmp_path, DIST_OPTIONS,
                            launcher=[DIST_TRAIN])
    assert 'Distributed training: True' in out
