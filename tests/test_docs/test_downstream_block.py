"""docs/downstream.md's "On a CPU" block, run as it stands (issue #33
item 9): in a folder laid out like the repository (``tools`` and
``configs`` linked), where the three demo pretrainings it starts from are
the tiny runs of the test session at the paths the docs name, with the
virtual environment activated."""
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from helpers import REPO
from helpers.tools import require_slow_mark, tool_env

# The block's demo checkpoints -> the session fixture that trains each.
DEMO_CHECKPOINTS = {
    'work_dirs/demo_pretrain/epoch_3.pth': 'make_demo_run',
    'work_dirs/siameseim_vit-tiny-p8_1xb64-coslr-10e_mnist5k_demo/'
    'epoch_10.pth': 'demo_run',
    'work_dirs/conmim_vit-tiny-p8_1xb64-coslr-4e_mnist5k_demo/epoch_4.pth':
    'conmim_run',
}


def on_a_cpu_block():
    """The command block of docs/downstream.md that makes the tiny sets."""
    text = open(osp.join(REPO, 'docs', 'downstream.md')).read()
    blocks = re.findall(r'^```bash\n(.*?)^```', text, re.S | re.M)
    found = [b for b in blocks if 'make_tiny_datasets.py data' in b]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.slow
def test_the_on_a_cpu_block_runs_as_written(tmp_path, request):
    require_slow_mark()
    block = on_a_cpu_block()
    for folder in ('tools', 'configs'):
        os.symlink(osp.join(REPO, folder), tmp_path / folder)
    for path, fixture in DEMO_CHECKPOINTS.items():
        assert path in block, f'the block no longer reads {path}'
        work_dir = request.getfixturevalue(fixture)[0]
        (tmp_path / path).parent.mkdir(parents=True)
        os.symlink(work_dir / 'epoch_2.pth', tmp_path / path)
    env = tool_env()
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    proc = subprocess.run(['bash', '-e', '-c', block], cwd=tmp_path,
                          env=env, timeout=1800, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout[-6000:]
    out = proc.stdout
    assert len(re.findall(r"--demo-scale: the checkpoint's", out)) == 5
    for metric in ('coco/segm_mAP', 'lvis/segm_APr', 'mIoU',
                   'accuracy/top1'):
        assert re.search(re.escape(metric) + r': -?[0-9.]+', out), metric
    assert (tmp_path / 'logistic_regression.json').exists() or list(
        tmp_path.glob('work_dirs/*/logistic_regression.json'))
