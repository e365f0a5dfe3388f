"""tools/analysis_tools/benchmark_pretrain.py runs a real training step."""
import os.path as osp
import re

import pytest

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, REPO, load_tool, run_tool

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark_pretrain.py')
DEMO = DEMO_CONFIG


@pytest.mark.slow
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


def test_profile_table_lists_the_costliest_ops(capsys):
    load_tool('analysis_tools/benchmark_pretrain.py').main(
        [DEMO, '--batch-size', '2', '--iters', '1', '--warmup', '1',
         '--profile', '1', '--profile-rows', '5'])
    out = capsys.readouterr().out
    table = out.split('top ops by self time over 1 profiled steps:\n')[1]
    rows = [line for line in table.splitlines() if line.startswith('| `')]
    assert len(rows) == 5
    shares = [float(re.search(r'\| ([0-9.]+) % \|', row)[1]) for row in rows]
    assert shares == sorted(shares, reverse=True)
    assert 0 < sum(shares) <= 100.01
    assert any('aten::' in row for row in rows)
