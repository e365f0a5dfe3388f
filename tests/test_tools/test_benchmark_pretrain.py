"""tools/analysis_tools/benchmark_pretrain.py runs a real training step."""
import os.path as osp
import re

import pytest

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, REPO, run_tool

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_pretrain.py')
DEMO = DEMO_CONFIG


@pytest.mark.parametrize('config,amp', [(DEMO, False), (DEMO, True),
                                        (CONMIM_DEMO_CONFIG, True)],
                         ids=['siameseim-fp32', 'siameseim-amp', 'conmim-amp'])
def test_reports_throughput_memory_and_flops(config, amp):
    args = [TOOL, config, '--batch-size', 4, '--iters', 1, '--warmup', 1]
    out = run_tool(args + (['--amp'] if amp else [])).stdout
    assert re.search(r'throughput: [0-9.]+ images/s', out)
    assert re.search(r'peak memory: \d+ MiB', out)
    flops = float(re.search(r'FLOPs per step: ([0-9.]+) GFLOP', out)[1])
    assert flops > 0
    assert ('bf16 autocast' in out) == amp
