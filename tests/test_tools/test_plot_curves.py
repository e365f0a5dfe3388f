"""tools/analysis_tools/plot_curves.py on a real (tiny ConMIM) run."""
import os.path as osp

import pytest
from PIL import Image

from helpers import REPO, load_tool, run_tool

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'plot_curves.py')


def test_plots_loss_lr_momentum_knn_and_probe(conmim_run, tmp_path):
    out = tmp_path / 'curves.png'
    proc = run_tool([TOOL, conmim_run[0], '--out', out])
    assert 'loss, lr, momentum, knn/top1, probe/top1' in proc.stdout
    image = Image.open(out)
    assert image.size == (700, 1200)  # 5 panels of 7 x 2.4 in. at 100 dpi
    assert len(set(image.convert('L').getdata())) > 10  # not blank


def test_validation_scalars_are_per_epoch(conmim_run):
    plot_curves = load_tool('analysis_tools/plot_curves.py')
    series, units = plot_curves.read_scalars(str(conmim_run[0]))
    # Before training and after each of the 2 epochs.
    assert sorted(series['knn/top1']) == [0, 1, 2]
    # The online probe from the first evaluation after training began.
    assert sorted(series['probe/top1']) == [1, 2]
    assert units['knn/top1'] == 'epoch' and units['loss'] == 'iteration'
    # Validation timings do not overwrite the training ones.
    assert sorted(series['time']) == sorted(series['loss'])


def test_missing_logs_and_keys_are_named(conmim_run, tmp_path):
    proc = run_tool([TOOL, tmp_path], check=False)
    assert proc.returncode != 0 and 'scalars.json' in proc.stdout
    proc = run_tool([TOOL, conmim_run[0], '--keys', 'knn/top9'],
                    check=False)
    assert proc.returncode != 0 and "['knn/top9']" in proc.stdout
