"""Every method's `_demo` config visibly learns (slow: the full demos, a
few minutes each; `make test-all`).

Each demo runs as a user runs it, `python tools/train.py CONFIG`, with the
machine's threads; its closing line must show a kNN top-1 at least 10
points above the value of the random initialisation (epoch 0) on the same
MNIST5k val digits.
"""
import glob
import os
import os.path as osp
import re

import pytest

from conftest import REPO, run_tool

DEMO_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*', '*_demo.py')))
SUMMARY = re.compile(r'kNN top-1: random init ([0-9.]+) -> trained '
                     r'([0-9.]+) \(raw pixels ([0-9.]+)\)')


def test_every_method_has_a_demo():
    methods = {osp.basename(p).split('_')[0] for p in DEMO_CONFIGS}
    assert methods == {
        'siameseim', 'conmim', 'mulan-byol', 'mulan-simsiam', 'mulan-mocov3'
    }


@pytest.mark.slow
@pytest.mark.parametrize('config', DEMO_CONFIGS,
                         ids=[osp.basename(p)[:-3] for p in DEMO_CONFIGS])
def test_demo_knn_rises_ten_points(config, tmp_path):
    env = dict(os.environ)
    # All cores, as `python tools/train.py` uses them.
    env.pop('OMP_NUM_THREADS', None)
    proc = run_tool([osp.join(REPO, 'tools', 'train.py'), config,
                     '--work-dir', tmp_path], env=env)
    summary = SUMMARY.search(proc.stdout)
    assert summary, proc.stdout[-3000:]
    random_init, trained, _ = map(float, summary.groups())
    assert trained >= random_init + 10, summary.group(0)
