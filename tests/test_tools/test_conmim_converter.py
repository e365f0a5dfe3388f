"""tools/model_converters/conmim_official_to_mmsiam.py: official layouts
(student, teacher, fine-tuned) into mmsiam, every key accounted for."""
import argparse
import os.path as osp

import pytest
import torch
from mmengine import DefaultScope

from helpers import REPO, build_model, run_tool
from mmsiam.registry import MODELS
from mmsiam.utils import register_all_modules

# End-to-end: every test runs tools in subprocesses (make test-all).
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools', 'model_converters',
                'conmim_official_to_mmsiam.py')
PAPER = osp.join(REPO, 'configs', 'conmim',
                 'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py')

# The spec's table, written out independently of the converter.
BLOCK_PARTS = {
    'norm1': 'ln1', 'norm2': 'ln2', 'attn.qkv': 'attn.qkv',
    'attn.q_bias': 'attn.q_bias', 'attn.v_bias': 'attn.v_bias',
    'attn.proj': 'attn.proj', 'gamma_1': 'gamma_1', 'gamma_2': 'gamma_2',
    'attn.relative_position_bias_table': 'attn.relative_position_bias_table',
    'mlp.fc1': 'ffn.layers.0.0', 'mlp.fc2': 'ffn.layers.1'
}
PROJECTOR = {'0': 'fc0', '1': 'bn0', '3': 'fc1', '4': 'bn1', '6': 'fc2',
             '7': 'bn2'}


@pytest.fixture(scope='module')
def model():
    return build_model(PAPER, init=False)


def official_name(ours, encoder, projector):
    """mmsiam key (under the given prefixes) -> official key."""
    if ours.startswith(projector):
        name, rest = ours[len(projector):].split('.', 1)
        index = {v: k for k, v in PROJECTOR.items()}[name]
        return f'projectors.{index}.{rest}'
    rest = ours[len(encoder):]
    if rest.startswith('layers.'):
        _, i, part = rest.split('.', 2)
        for official, mine in BLOCK_PARTS.items():
            if part.startswith(mine):
                return f'blocks.{i}.{official}{part[len(mine):]}'
    return {'patch_embed.projection.weight': 'patch_embed.proj.weight',
            'patch_embed.projection.bias': 'patch_embed.proj.bias',
            'ln1.weight': 'norm.weight', 'ln1.bias': 'norm.bias'}.get(rest,
                                                                      rest)


def official_file(model, encoder, projector, seed):
    """A random official pretraining state dict shaped like one branch of
    ``model``, plus the lm_head; returns it and official -> mmsiam keys."""
    torch.manual_seed(seed)
    state, where = {}, {}
    for ours, value in model.state_dict().items():
        if not ours.startswith((encoder, projector)):
            continue
        official = official_name(ours, encoder, projector)
        state[official] = (value.clone() if not value.is_floating_point()
                           else torch.randn_like(value))
        where[official] = ours
    state['lm_head.weight'] = torch.randn(8192, 768)
    state['lm_head.bias'] = torch.randn(8192)
    return state, where


def save_official(path, state):
    torch.save({'model': state, 'epoch': 799,
                'args': argparse.Namespace(lr=7.5e-4)}, path)


def test_student_and_teacher_files_land_everywhere(model, tmp_path):
    student, student_keys = official_file(model, 'backbone.', 'neck.', 0)
    teacher, teacher_keys = official_file(model, 'target.module.0.',
                                          'target.module.1.', 1)
    # tokens, patch embed, rel-pos, norm, blocks, projector, lm_head
    assert len(student) == 2 + 2 + 2 + 2 + 12 * 15 + (3 + 10 + 3) + 2
    save_official(tmp_path / 'checkpoint-799.pth', student)
    save_official(tmp_path / 'checkpoint_copy-799.pth', teacher)
    out = tmp_path / 'conmim.pth'
    proc = run_tool([TOOL, tmp_path / 'checkpoint-799.pth', out,
                     '--teacher', tmp_path / 'checkpoint_copy-799.pth'])
    assert 'dropped lm_head' in proc.stdout
    converted = torch.load(out, weights_only=True)['state_dict']
    model.load_state_dict(converted, strict=True)
    for official, ours in student_keys.items():
        assert torch.equal(converted[ours], student[official]), official
    for official, ours in teacher_keys.items():
        assert torch.equal(converted[ours], teacher[official]), official
    assert int(converted['target.steps']) == 0
    assert set(converted) == set(model.state_dict())
    # extract_backbone.py exports the teacher of a converted file too.
    exported = tmp_path / 'backbone.pth'
    proc = run_tool([
        osp.join(REPO, 'tools', 'model_converters', 'extract_backbone.py'),
        out, exported
    ])
    assert 'ConMIM: wrote' in proc.stdout and ' target backbone' in proc.stdout
    backbone = torch.load(exported, weights_only=True)['state_dict']
    compared = 0
    for official, ours in teacher_keys.items():
        key = ours.replace('target.module.0.', 'backbone.', 1)
        if key in backbone:  # the shared rel-pos table is per block there
            assert torch.equal(backbone[key], teacher[official]), official
            compared += 1
    assert compared >= 12 * 14


def test_one_file_sets_both_branches(model, tmp_path):
    student, where = official_file(model, 'backbone.', 'neck.', 0)
    save_official(tmp_path / 'checkpoint_copy-799.pth', student)
    out = tmp_path / 'conmim.pth'
    proc = run_tool([TOOL, tmp_path / 'checkpoint_copy-799.pth', out])
    assert 'both set from the one file' in proc.stdout
    converted = torch.load(out, weights_only=True)['state_dict']
    model.load_state_dict(converted, strict=True)
    for official, ours in where.items():
        teacher_key = ours.replace('backbone.', 'target.module.0.', 1) \
            .replace('neck.', 'target.module.1.', 1)
        assert torch.equal(converted[teacher_key], student[official])


def test_unknown_and_missing_keys_are_named(model, tmp_path):
    student, _ = official_file(model, 'backbone.', 'neck.', 0)
    student['blocks.0.attn.k_bias'] = torch.zeros(768)
    student['decoder.weight'] = torch.zeros(3)
    save_official(tmp_path / 'extra.pth', student)
    proc = run_tool([TOOL, tmp_path / 'extra.pth', tmp_path / 'a.pth'],
                    check=False)
    assert proc.returncode != 0
    assert 'decoder.weight' in proc.stdout
    student.pop('decoder.weight')
    student.pop('blocks.0.attn.k_bias')
    student.pop('projectors.4.running_var')
    save_official(tmp_path / 'short.pth', student)
    proc = run_tool([TOOL, tmp_path / 'short.pth', tmp_path / 'b.pth'],
                    check=False)
    assert proc.returncode != 0
    assert 'projectors.4.running_var' in proc.stdout
    assert not (tmp_path / 'b.pth').exists()


def test_finetuned_file_becomes_a_beit_backbone(tmp_path):
    """Per-block tables, fc_norm and head (under 'module') -> backbone.* of
    mmpretrain's BEiTViT(use_rel_pos_bias=True, out_type='avg_featmap')."""
    register_all_modules()
    with DefaultScope.overwrite_default_scope('mmsiam'):
        backbone = MODELS.build(dict(
            type='mmpretrain.BEiTViT', arch=dict(
                embed_dims=48, num_layers=2, num_heads=3,
                feedforward_channels=96), img_size=32, patch_size=8,
            use_rel_pos_bias=True, out_type='avg_featmap'))
    torch.manual_seed(0)
    finetuned = {}
    for ours, value in backbone.state_dict().items():
        if ours.endswith('relative_position_index'):
            finetuned['blocks.' + ours.split('.', 1)[1]] = value
            continue
        official = official_name('b.' + ours, 'b.', 'none.')
        official = {'ln2.weight': 'fc_norm.weight',
                    'ln2.bias': 'fc_norm.bias'}.get(official, official)
        finetuned[official] = torch.randn_like(value)
    finetuned['head.weight'] = torch.randn(1000, 48)
    finetuned['head.bias'] = torch.randn(1000)
    torch.save({'module': finetuned}, tmp_path / 'finetuned.pth')
    out = tmp_path / 'backbone.pth'
    proc = run_tool([TOOL, tmp_path / 'finetuned.pth', out])
    assert 'classifier head was dropped' in proc.stdout
    converted = torch.load(out, weights_only=True)['state_dict']
    weights = {k[len('backbone.'):]: v for k, v in converted.items()}
    missing, unexpected = backbone.load_state_dict(weights, strict=False)
    assert unexpected == []
    assert all(k.endswith('relative_position_index') for k in missing)
    assert torch.equal(backbone.ln2.weight, finetuned['fc_norm.weight'])
    assert torch.equal(
        backbone.layers[1].attn.relative_position_bias_table,
        finetuned['blocks.1.attn.relative_position_bias_table'])
