"""tools/analysis_tools/plot_curves.py on a real (tiny ConMIM) run."""
import os.path as osp

from PIL import Image

from conftest import REPO, run_tool

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'plot_curves.py')


def test_plots_loss_lr_and_momentum(conmim_run, tmp_path):
    out = tmp_path / 'curves.png'
    proc = run_tool([TOOL, conmim_run[0], '--out', out])
    assert 'loss, lr, momentum' in proc.stdout
    image = Image.open(out)
    assert image.size == (700, 720)  # 3 panels of 7 x 2.4 inches at 100 dpi
    assert len(set(image.convert('L').getdata())) > 10  # not blank


def test_missing_logs_and_keys_are_named(conmim_run, tmp_path):
    proc = run_tool([TOOL, tmp_path], check=False)
    assert proc.returncode != 0 and 'scalars.json' in proc.stdout
    proc = run_tool([TOOL, conmim_run[0], '--keys', 'knn/top1'],
                    check=False)
    assert proc.returncode != 0 and "['knn/top1']" in proc.stdout
