"""Newcomer items 9 and 11 (issue #33), through the real tools: the
downstream commands of docs/downstream.md run on a CPU with --demo-scale,
and make demo's checkpoint exports to timm with a call that loads it."""
import os.path as osp
import re

import pytest
import timm
import torch

from helpers import REPO, run_demo_scale_launcher, run_tool

LINEAR = osp.join(REPO, 'configs', 'benchmarks', 'classification',
                  'siameseim_vit-base-p16_8xb2048-linear-coslr-90e_in1k.py')
TO_TIMM = osp.join(REPO, 'tools', 'model_converters', 'mmsiam_to_timm.py')


def test_downstream_docs_name_the_demo_scale_route():
    """docs/downstream.md pointed to tests/benchmark_overrides.py, Python
    helpers and not options."""
    text = open(osp.join(REPO, 'docs', 'downstream.md')).read()
    assert 'benchmark_overrides' not in text
    assert '## On a CPU' in text and '--demo-scale' in text


@pytest.mark.slow
def test_the_linear_probe_runs_through_its_launcher_on_one_cpu(
        tmp_path, tiny_benchmarks, backbone_checkpoint):
    """It failed three times in a row (the AMP assertion, epoch_length 0,
    ViT-B size mismatches) and then took 26 --cfg-options."""
    out = run_demo_scale_launcher('classification', LINEAR,
                                  backbone_checkpoint, tiny_benchmarks,
                                  tmp_path / 'wd', processes=1).stdout
    assert "--demo-scale: the checkpoint's 4-block 64-d ViT" in out
    assert 'StrictPretrainedViT: loaded' in out
    assert re.search(r'accuracy/top1: [0-9.]+', out)


@pytest.mark.slow
def test_make_demos_checkpoint_exports_to_timm(tmp_path,
                                               mulan_backbone_checkpoint):
    """The width-16 ResNet-18 exported to neither timm nor torchvision."""
    out = tmp_path / 'timm.pth'
    printed = run_tool([TO_TIMM, mulan_backbone_checkpoint, out]).stdout
    call = re.search(r'model = (timm\.create_model\(.*\))', printed)[1]
    model = eval(call, {'timm': timm}).eval()
    timm.models.load_checkpoint(model, str(out), strict=True)
    assert model(torch.rand(1, 3, 64, 64)).shape == (1, 128)


@pytest.mark.slow
def test_a_corrupt_checkpoint_is_not_answered_with_resume(tmp_path,
                                                          demo_run):
    truncated = tmp_path / 'epoch_2.pth'
    data = (demo_run[0] / 'epoch_2.pth').read_bytes()
    truncated.write_bytes(data[:len(data) // 2])
    proc = run_tool([TO_TIMM, truncated, tmp_path / 'out.pth'], check=False)
    assert proc.returncode != 0
    assert 'Export another checkpoint of its work dir' in proc.stdout
    assert '--resume' not in proc.stdout
