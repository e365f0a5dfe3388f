"""tools/model_converters/mulan_official_to_mmsiam.py: official training
checkpoints and plain backbones into mmsiam, every key accounted for."""
import os.path as osp
import re

import pytest
import torch

from helpers import MULAN_DEMO_CONFIG, REPO, build_model, run_tool

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'model_converters',
                'mulan_official_to_mmsiam.py')
CONFIGS = osp.join(REPO, 'configs', 'mulan')
VIT_PARTS = {'ln1': 'norm1', 'ln2': 'norm2', 'ffn.layers.0.0': 'mlp.fc1',
             'ffn.layers.1': 'mlp.fc2', 'attn': 'attn'}


def official_mlp(key):
    """'fc1.weight' -> '3.weight', 'bn0.bias' -> '1.bias' (the spec's
    Sequential layout), independently of the converter."""
    name, rest = key.split('.', 1)
    index = 3 * int(name[2:]) + (0 if name.startswith('fc') else 1)
    return f'{index}.{rest}'


def official_vit(key):
    key = key.replace('patch_embed.projection', 'patch_embed.proj')
    if key.startswith('ln1.'):
        return 'norm.' + key[4:]
    match = re.match(r'layers\.(\d+)\.(.+)', key)
    if match:
        rest = match.group(2)
        for ours, theirs in VIT_PARTS.items():
            if rest.startswith(ours + '.'):
                return f'blocks.{match.group(1)}.{theirs}{rest[len(ours):]}'
    return key


def official_network(state, backbone, neck, predictors, vit=False):
    """One official network dict from the branches of an mmsiam model."""
    out = {}
    for key, value in state.items():
        if key.startswith(backbone):
            rest = key[len(backbone):]
            out['backbone.' + (official_vit(rest) if vit else rest)] = value
        elif key.startswith(neck):
            out['projector.' + official_mlp(key[len(neck):])] = value
        elif predictors and key.startswith(predictors):
            task, rest = key[len(predictors):].split('.', 1)
            out[f'predictors.{task}.{official_mlp(rest)}'] = value
    return out


def randomised(model):
    torch.manual_seed(0)
    return {k: torch.randn_like(v) if v.is_floating_point() else v
            for k, v in model.state_dict().items()}


def test_training_checkpoint_round_trip(tmp_path):
    model = build_model(MULAN_DEMO_CONFIG)
    state = randomised(model)
    online = official_network(state, 'backbone.', 'neck.',
                              'head.predictors.')
    target = official_network(state, 'target.module.0.', 'target.module.1.',
                              None)
    target.update({f'predictors.global.{k}': v for k, v in
                   official_network(state, 'x', 'x', 'head.predictors.')
                   .items() if k.startswith('predictors.global.')})
    src = tmp_path / 'checkpoint.pth'
    torch.save(dict(epoch=200, online_model={'module.' + k: v
                                             for k, v in online.items()},
                    target_model=target), src)
    out = tmp_path / 'mulan.pth'
    proc = run_tool([TOOL, src, out])
    assert 'target predictors dropped' in proc.stdout
    converted = torch.load(out, weights_only=True)['state_dict']
    model.load_state_dict(converted, strict=True)
    for key, value in state.items():
        if key != 'target.steps':
            assert torch.equal(converted[key], value), key
    # the same file, backbone only, target branch
    out = tmp_path / 'target_backbone.pth'
    run_tool([TOOL, src, out, '--backbone-only', '--branch', 'target'])
    backbone = torch.load(out, weights_only=True)['state_dict']
    assert set(backbone) == {k for k in state if k.startswith('backbone.')}
    assert torch.equal(backbone['backbone.conv1.weight'],
                       state['target.module.0.conv1.weight'])


def test_plain_vit_backbone_and_unknown_keys(tmp_path):
    vit = osp.join(CONFIGS,
                   'mulan-byol_vit-small-p16_4xb256-amp-coslr-200e_in1k.py')
    tiny = dict(type='DINOViT', arch=dict(embed_dims=48, num_layers=2,
                                          num_heads=3,
                                          feedforward_channels=96),
                img_size=32, patch_size=16)
    model = build_model(vit, backbone=tiny)
    state = randomised(model.backbone)
    plain = {official_vit(k): v for k, v in state.items()}
    assert 'blocks.1.mlp.fc2.weight' in plain and 'norm.bias' in plain
    src = tmp_path / 'backbone_tgt.pth'
    torch.save(plain, src)
    out = tmp_path / 'vit.pth'
    run_tool([TOOL, src, out])
    converted = torch.load(out, weights_only=True)['state_dict']
    model.backbone.load_state_dict(
        {k[len('backbone.'):]: v for k, v in converted.items()}, strict=True)
    assert torch.equal(model.backbone.layers[1].ffn.layers[1].weight,
                       plain['blocks.1.mlp.fc2.weight'])
    plain['blocks.0.attn.q_norm.weight'] = torch.ones(3)
    torch.save(plain, src)
    proc = run_tool([TOOL, src, tmp_path / 'bad.pth'], check=False)
    assert proc.returncode != 0
    assert 'blocks.0.attn.q_norm.weight' in proc.stdout
    assert not (tmp_path / 'bad.pth').exists()
