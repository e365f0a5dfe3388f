"""tools/model_converters/extract_backbone.py on a real pretraining run."""
import os.path as osp

import pytest
import torch

from helpers import REPO, run_tool

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py')


def test_online_branch_is_the_siameseim_default(demo_run, backbone_checkpoint):
    full = torch.load(demo_run[0] / 'epoch_2.pth', weights_only=True)
    exported = torch.load(backbone_checkpoint, weights_only=True)
    assert exported['meta']['branch'] == 'online'
    assert exported['meta']['method'] == 'SiameseIM'
    online = {k: v for k, v in full['state_dict'].items()
              if k.startswith('backbone.')}
    assert exported['state_dict'].keys() == online.keys()
    for key, value in online.items():
        assert torch.equal(exported['state_dict'][key], value)


def test_target_branch_and_its_refusal(demo_run, tmp_path):
    ckpt = demo_run[0] / 'epoch_2.pth'
    out = tmp_path / 'target.pth'
    run_tool([TOOL, ckpt, out, '--branch', 'target'])
    full = torch.load(ckpt, weights_only=True)['state_dict']
    exported = torch.load(out, weights_only=True)['state_dict']
    key = 'backbone.layers.0.attn.qkv.weight'
    assert torch.equal(exported[key],
                       full['target.module.0.layers.0.attn.qkv.weight'])
    # A checkpoint without a target branch is refused with the reason.
    backbone_only = tmp_path / 'backbone_only.pth'
    torch.save({'state_dict': {k: v for k, v in full.items()
                               if k.startswith('backbone.')}}, backbone_only)
    proc = run_tool([TOOL, backbone_only, tmp_path / 'x.pth', '--branch',
                     'target'], check=False)
    assert proc.returncode != 0
    assert 'no target branch' in proc.stdout
    assert not (tmp_path / 'x.pth').exists()


def test_conmim_exports_the_teacher_with_per_block_tables(
        conmim_run, conmim_backbone_checkpoint):
    full = torch.load(conmim_run[0] / 'epoch_2.pth',
                      weights_only=True)['state_dict']
    exported = torch.load(conmim_backbone_checkpoint, weights_only=True)
    assert exported['meta'] == dict(
        exported['meta'], branch='target', method='ConMIM')
    weights = exported['state_dict']
    assert torch.equal(weights['backbone.layers.1.attn.qkv.weight'],
                       full['target.module.0.layers.1.attn.qkv.weight'])
    assert not torch.equal(weights['backbone.layers.1.attn.qkv.weight'],
                           full['backbone.layers.1.attn.qkv.weight'])
    shared = full['target.module.0.rel_pos_bias.relative_position_bias_table']
    for i in range(4):
        assert torch.equal(
            weights[f'backbone.layers.{i}.attn.relative_position_bias_table'],
            shared)
    assert not any(k.startswith('backbone.rel_pos_bias') for k in weights)
