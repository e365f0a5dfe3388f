"""tools/analysis_tools/benchmark_attention.py: one row per attention shape
and precision, a time for each kernel."""
import re

from helpers import load_tool


def test_prints_a_time_for_every_kernel_shape_and_precision(capsys):
    tool = load_tool('analysis_tools/benchmark_attention.py')
    tool.main(['--batch-size', '1', '--repeats', '1'])
    rows = [line for line in capsys.readouterr().out.splitlines()
            if re.match(r'\| SiameseIM', line)]
    assert len(rows) == 2 * len(tool.SHAPES)
    for row in rows:
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert cells[1] in ('fp32', 'bf16')
        assert all(float(t) > 0 for t in cells[2:]), row
        assert len(cells[2:]) == len(tool.KERNELS)
