"""tools/dist_train.sh with 2 CPU processes over gloo."""
import os.path as osp
import re

from conftest import DEMO_CONFIG, REPO, TINY_DEMO_OPTIONS, run_tool


def test_two_processes_train_together(tmp_path, demo_run):
    work_dir = tmp_path / 'work_dir'
    proc = run_tool([
        osp.join(REPO, 'tools', 'dist_train.sh'), DEMO_CONFIG, 2,
        '--work-dir', work_dir, '--cfg-options'
    ] + TINY_DEMO_OPTIONS, timeout=900)
    out = proc.stdout
    assert 'Distributed training: True' in out
    # 64 samples shared by 2 ranks at batch 16: 2 iterations per epoch (a
    # single process would run 4).
    assert 'Epoch(train) [2][2/2]' in out
    assert '[2][4/4]' not in out
    # Only rank 0 logs and saves.
    assert len(re.findall(r'Epoch\(train\) \[1\]\[1/2\]', out)) == 1
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
