"""Every method's `_demo` config visibly learns (slow: the full demos, a
few minutes each; `make test-all`).

Each demo runs as a user runs it, `python tools/train.py CONFIG` with all
the machine's cores; its closing line must show a kNN top-1 at least 10
points (SiameseIM: 5, see MIN_GAIN) above the value before training
(epoch 0) on the same MNIST5k val digits. docs/small_scale.md records the
runs and the causes behind them.
"""
import os.path as osp
import re

import pytest

from helpers import REPO, load_tool, run_tool

# The demos and their method names as the small CPU benchmark sees them.
benchmark = load_tool('analysis_tools/small_scale_benchmark.py')
DEMO_CONFIGS = benchmark.DEMO_CONFIGS
method = benchmark.method_name
SUMMARY = re.compile(r'kNN top-1: random init ([0-9.]+) -> trained '
                     r'([0-9.]+) \(raw pixels ([0-9.]+)\)')
# Demos whose recipe does not reach +10 points yet (issue #17); strict, so
# that one which starts to pass fails here until it is taken off the list.
NOT_YET_LEARNING = {
    'conmim': 'ConMIM: within 1 point so far',
}
# A lower line, measured: SiameseIM's kNN gain at 10 epochs depends on the
# seed (+6.9 / +7.7 / +11.1 over seeds 0-2 on an Intel Xeon with AMX, +6.3
# with seed 0 on an AMD EPYC, since the recipe fixes of issue #32;
# docs/small_scale.md). Its few-label fine-tuning gain is in the
# small-scale benchmark.
MIN_GAIN = {'siameseim': 5}


def test_every_method_has_one_demo():
    assert sorted(map(method, DEMO_CONFIGS)) == [
        'conmim', 'mulan-byol', 'mulan-mocov3', 'mulan-simsiam', 'siameseim'
    ]


@pytest.mark.slow
@pytest.mark.parametrize('config', [
    pytest.param(
        config,
        id=method(config),
        marks=[pytest.mark.xfail(strict=True,
                                 reason=NOT_YET_LEARNING[method(config)])]
        if method(config) in NOT_YET_LEARNING else [])
    for config in DEMO_CONFIGS
])
def test_demo_knn_rises_ten_points(config, tmp_path):
    proc = run_tool([osp.join(REPO, 'tools', 'train.py'), config,
                     '--work-dir', tmp_path], all_threads=True)
    summary = SUMMARY.search(proc.stdout)
    assert summary, proc.stdout[-3000:]
    random_init, trained, _ = map(float, summary.groups())
    assert trained >= random_init + MIN_GAIN.get(method(config), 10), \
        summary.group(0)
