"""tools/model_converters/siameseim_official_to_mmsiam.py round trips."""
import argparse
import os.path as osp

import pytest
import torch

from helpers import DEMO_CONFIG, REPO, build_model, run_tool

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'model_converters',
                'siameseim_official_to_mmsiam.py')
DEMO = DEMO_CONFIG
PAPER = osp.join(REPO, 'configs', 'siameseim',
                 'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py')

# The spec's table, written out independently of the converter.
BLOCK_PARTS = {
    'norm1': 'ln1', 'norm2': 'ln2', 'attn.qkv': 'attn.qkv',
    'attn.proj': 'attn.proj', 'mlp.fc1': 'ffn.layers.0.0',
    'mlp.fc2': 'ffn.layers.1'
}


def official_layout(model):
    """A random official-layout state dict shaped like ``model``;
    returns it and the mmsiam key each official key must land on."""
    ours = model.state_dict()
    where = {
        'pos_embed': 'backbone.pos_embed',
        'cls_token': 'backbone.cls_token',
        'patch_embed.proj.weight': 'backbone.patch_embed.projection.weight',
        'patch_embed.proj.bias': 'backbone.patch_embed.projection.bias',
        'decoder_embed.weight': 'neck.decoder_embed.weight',
        'decoder_embed.bias': 'neck.decoder_embed.bias',
        'mask_token': 'head.mask_token',
        'decoder_pos_embed': 'head.decoder_pos_embed',
        'decoder_pos_mlp.weight': 'head.pos_mlp.weight',
        'decoder_pos_mlp.bias': 'head.pos_mlp.bias',
        'decoder_pred.weight': 'head.pred.weight',
        'decoder_pred.bias': 'head.pred.bias',
        'mm_patch_embed.proj.weight':
        'target.module.0.patch_embed.projection.weight',
        'mm_patch_embed.proj.bias':
        'target.module.0.patch_embed.projection.bias',
        'mm_cls_token': 'target.module.0.cls_token',
        'mm_decoder_embed.weight': 'target.module.1.decoder_embed.weight',
        'mm_decoder_embed.bias': 'target.module.1.decoder_embed.bias',
    }
    groups = [('blocks', 'backbone.layers', len(model.backbone.layers), ''),
              ('mm_blocks', 'target.module.0.layers',
               len(model.backbone.layers), ''),
              ('projector_decoder_blocks', 'neck.blocks',
               len(model.neck.blocks), 'bn.'),
              ('mm_projector_decoder_blocks', 'target.module.1.blocks',
               len(model.neck.blocks), 'bn.'),
              ('predictor_decoder_blocks', 'head.blocks',
               len(model.head.blocks), 'bn.')]
    for official, mine, depth, bn in groups:
        for i in range(depth):
            for part, part_ours in BLOCK_PARTS.items():
                params = ['weight', 'bias']
                if part.startswith('norm') and bn:
                    params = [bn + p for p in ('weight', 'bias',
                                               'running_mean', 'running_var',
                                               'num_batches_tracked')]
                for p in params:
                    where[f'{official}.{i}.{part}.{p}'] = \
                        f'{mine}.{i}.{part_ours}.{p}'
    state = {}
    for official, mine in where.items():
        ref = ours[mine]
        state[official] = (torch.randint_like(ref, 0, 100)
                           if not ref.is_floating_point() else
                           torch.randn_like(ref))
    state['mm_mask_token'] = torch.randn(1, 1, model.head.embed_dims)
    return state, where


def _save_official(path, state):
    torch.save({'model': state, 'optimizer': {}, 'epoch': 7,
                'args': argparse.Namespace(lr=1e-3, model='sim_base')}, path)


def test_every_official_key_lands(tmp_path):
    model = build_model(DEMO, init=False)
    state, where = official_layout(model)
    src, dst = tmp_path / 'checkpoint-7.pth', tmp_path / 'mmsiam.pth'
    _save_official(src, state)
    proc = run_tool([TOOL, src, dst])
    assert 'mm_mask_token' in proc.stdout
    converted = torch.load(dst, weights_only=True)['state_dict']
    # All official keys but mm_mask_token, plus the target's copy of the
    # fixed pos_embed and the EMA step counter.
    assert len(converted) == len(state) - 1 + 2
    for official, mine in where.items():
        assert torch.equal(converted[mine], state[official]), official
    model.load_state_dict(converted, strict=True)


def test_unknown_and_missing_keys_are_named(tmp_path):
    state, _ = official_layout(build_model(DEMO, init=False))
    state['decoder_norm.weight'] = torch.ones(3)
    _save_official(tmp_path / 'a.pth', state)
    proc = run_tool([TOOL, tmp_path / 'a.pth', tmp_path / 'out.pth'],
                    check=False)
    assert proc.returncode != 0 and 'decoder_norm.weight' in proc.stdout
    del state['decoder_norm.weight'], state['blocks.1.mlp.fc2.bias']
    _save_official(tmp_path / 'b.pth', state)
    proc = run_tool([TOOL, tmp_path / 'b.pth', tmp_path / 'out.pth'],
                    check=False)
    assert proc.returncode != 0 and 'blocks.1.mlp.fc2.bias' in proc.stdout
    assert not (tmp_path / 'out.pth').exists()


def test_finetuned_checkpoint_gives_backbone_only(tmp_path):
    model = build_model(DEMO, init=False)
    state, where = official_layout(model)
    state = {k: v for k, v in state.items()
             if k in ('pos_embed', 'cls_token') or k.startswith(
                 ('patch_embed.', 'blocks.'))}
    dims = model.head.embed_dims
    state.update({'fc_norm.weight': torch.ones(dims),
                  'fc_norm.bias': torch.zeros(dims),
                  'head.weight': torch.zeros(1000, dims),
                  'head.bias': torch.zeros(1000)})
    src, dst = tmp_path / 'finetune.pth', tmp_path / 'backbone.pth'
    torch.save({'model': state}, src)
    run_tool([TOOL, src, dst])
    converted = torch.load(dst, weights_only=True)['state_dict']
    assert all(k.startswith('backbone.') for k in converted)
    assert 'backbone.ln2.weight' in converted
    assert len(converted) == len(state) - 2
    # Existing outputs are never replaced silently.
    proc = run_tool([TOOL, src, dst], check=False)
    assert proc.returncode != 0 and 'exists' in proc.stdout


def test_vit_base_official_layout_loads_strictly(tmp_path):
    model = build_model(PAPER, init=False)
    state, _ = official_layout(model)
    assert len(state) == 450  # the official count
    _save_official(tmp_path / 'vit_b.pth', state)
    run_tool([TOOL, tmp_path / 'vit_b.pth', tmp_path / 'out.pth'])
    converted = torch.load(tmp_path / 'out.pth', weights_only=True)
    model.load_state_dict(converted['state_dict'], strict=True)
