"""tools/analysis_tools/benchmark_strategy_memory.py measures one DDP and
one FSDP step with 2 CPU processes."""
import os.path as osp
import re

import pytest

from helpers import DEMO_CONFIG, REPO, run_tool

TOOL = osp.join(REPO, 'tools', 'analysis_tools',
                'benchmark_strategy_memory.py')


@pytest.mark.slow
def test_reports_the_peak_memory_of_each_strategy():
    out = run_tool([TOOL, DEMO_CONFIG, '--image-size', 64]).stdout
    rows = dict(
        re.findall(r'^\| (ddp|fsdp) \| (\d+) \| [0-9.]+ \|$', out, re.M))
    assert rows.keys() == {'ddp', 'fsdp'}
    # Python, torch and the stack alone take several hundred MiB.
    assert all(int(mib) > 300 for mib in rows.values())
    ratio = float(re.search(r'FSDP / DDP: x([0-9.]+)', out)[1])
    assert ratio == pytest.approx(int(rows['fsdp']) / int(rows['ddp']),
                                  abs=0.01)
