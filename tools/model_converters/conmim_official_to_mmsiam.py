#!/usr/bin/env python
"""Convert an official ConMIM checkpoint to mmsiam.

* A pretraining checkpoint (``{'model': ...}``; the student
  ``checkpoint-<ep>.pth`` or the teacher ``checkpoint_copy-<ep>.pth``)
  becomes a full mmsiam ConMIM checkpoint that loads with ``strict=True``
  into the model of
  ``configs/conmim/conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py``:
  student (``backbone.*``, ``neck.*``) and teacher (``target.module.0.*``,
  ``target.module.1.*``) are both set from SRC, or the teacher from
  ``--teacher FILE`` (then SRC is the student). The unused 8192-way
  ``lm_head`` is dropped with a note. Downstream, export the teacher (the
  paper fine-tunes it) with ``tools/model_converters/extract_backbone.py``.
* A fine-tuned checkpoint (weights under ``model`` or ``module``: per-block
  relative position bias tables, ``fc_norm``, ``head``) becomes a
  backbone-only checkpoint (``backbone.*``, ``fc_norm`` -> ``backbone.ln2``)
  for mmpretrain's ``BEiTViT(use_rel_pos_bias=True,
  out_type='avg_featmap')``; the classifier ``head`` is dropped.

Key mapping (official -> mmsiam, mmpretrain BEiT names):

    patch_embed.proj / cls_token / mask_token
        -> backbone.patch_embed.projection / backbone.cls_token / .mask_token
    rel_pos_bias.*                          -> backbone.rel_pos_bias.*
    blocks.i.{norm1,norm2,attn.*,gamma_1,gamma_2,mlp.fc1,mlp.fc2}
        -> backbone.layers.i.{ln1,ln2,attn.*,gamma_1,gamma_2,
                              ffn.layers.0.0,ffn.layers.1}
    norm                                    -> backbone.ln1
    projectors.{0,1,3,4,6,7}                -> neck.{fc0,bn0,fc1,bn1,fc2,bn2}
    lm_head.*                               -> dropped
    teacher file                            -> target.module.{0,1}.*, same

Unknown and missing keys are reported by name and stop the conversion.

Example::

    python tools/model_converters/conmim_official_to_mmsiam.py \\
        checkpoint-799.pth conmim_vit-base_800e_mmsiam.pth \\
        --teacher checkpoint_copy-799.pth
"""
import argparse
import sys

import torch

from mmsiam.runtime import setup_runtime
from checkpoint_io import (load_official_state_dict,
                                        save_converted)
from key_mapping import block_depth, map_keys, vit_encoder_rules

# Official ``projectors`` Sequential indices -> NonLinearNeck module names.
PROJECTOR_LAYERS = {0: 'fc0', 1: 'bn0', 3: 'fc1', 4: 'bn1', 6: 'fc2', 7: 'bn2'}
BN_STATS = ['running_mean', 'running_var', 'num_batches_tracked']
BLOCK_PARTS = ['gamma_1', 'gamma_2', 'norm1.weight', 'norm1.bias',
               'attn.qkv.weight', 'attn.q_bias', 'attn.v_bias',
               'attn.proj.weight', 'attn.proj.bias', 'norm2.weight',
               'norm2.bias', 'mlp.fc1.weight', 'mlp.fc1.bias',
               'mlp.fc2.weight', 'mlp.fc2.bias']


def pretrain_rules(encoder, projector):
    rules = vit_encoder_rules(encoder) + [
        (r'mask_token', encoder + 'mask_token'),
        (r'rel_pos_bias\.(relative_position_bias_table|'
         r'relative_position_index)', encoder + r'rel_pos_bias.\1'),
        (r'norm\.(weight|bias)', encoder + r'ln1.\1'),
        (r'lm_head\.(weight|bias)', None),
    ]
    rules += [(rf'projectors\.{index}\.(.+)', projector + name + r'.\1')
              for index, name in PROJECTOR_LAYERS.items()]
    return rules


FINETUNE_RULES = [
    # Index buffers are rebuilt by the model.
    (r'blocks\.\d+\.attn\.relative_position_index', None),
] + vit_encoder_rules('backbone.') + [
    (r'fc_norm\.(weight|bias)', r'backbone.ln2.\1'),
    (r'head\.(weight|bias)', None),
]


def official_pretrain_keys(depth):
    """Every key an official ConMIM pretraining file of ``depth`` blocks
    holds (``lm_head`` aside)."""
    keys = ['cls_token', 'mask_token', 'patch_embed.proj.weight',
            'patch_embed.proj.bias',
            'rel_pos_bias.relative_position_bias_table',
            'rel_pos_bias.relative_position_index', 'norm.weight',
            'norm.bias']
    keys += [f'blocks.{i}.{part}' for i in range(depth)
             for part in BLOCK_PARTS]
    for index in (0, 3, 6):
        keys.append(f'projectors.{index}.weight')
    for index in (1, 4):
        keys += [f'projectors.{index}.{p}'
                 for p in ['weight', 'bias'] + BN_STATS]
    keys += [f'projectors.7.{p}' for p in BN_STATS]
    return keys


def is_finetuned(state_dict) -> bool:
    return 'projectors.0.weight' not in state_dict and (
        'fc_norm.weight' in state_dict or 'head.weight' in state_dict)


def convert_branch(state_dict, encoder, projector, name):
    """Map one official pretraining file into the given prefixes."""
    converted, unknown = map_keys(state_dict, pretrain_rules(encoder,
                                                              projector))
    if unknown:
        raise KeyError(f'unknown keys in the {name} file: {unknown}')
    missing = [k for k in official_pretrain_keys(
        block_depth(state_dict, 'blocks')) if k not in state_dict]
    if missing:
        raise KeyError(f'missing keys in the {name} file: {missing}')
    return converted


def convert_pretrain(student, teacher=None):
    """Returns (state dict, notes)."""
    notes = []
    converted = convert_branch(student, 'backbone.', 'neck.', 'student')
    if teacher is None:
        teacher = student
        notes.append('teacher and student are both set from the one file')
    converted.update(convert_branch(teacher, 'target.module.0.',
                                    'target.module.1.', 'teacher'))
    if 'lm_head.weight' in student:
        notes.append('dropped lm_head (the unused 8192-way head)')
    converted['target.steps'] = torch.tensor(0)
    notes.append('target.steps set to 0 (the official file has no EMA step '
                 'counter)')
    return converted, notes


def convert_finetuned(state_dict):
    converted, unknown = map_keys(state_dict, FINETUNE_RULES)
    if unknown:
        raise KeyError(f'unknown keys in a fine-tuned checkpoint: {unknown}')
    required = ('backbone.cls_token', 'backbone.patch_embed.projection.weight',
                'backbone.layers.0.attn.relative_position_bias_table')
    missing = [k for k in required if k not in converted]
    if missing:
        raise KeyError(f'missing keys in a fine-tuned checkpoint: {missing}')
    return converted, ['fine-tuned checkpoint: wrote backbone.* only; the '
                       'classifier head was dropped']


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official ConMIM checkpoint to mmsiam')
    parser.add_argument('src', help='official checkpoint (.pth): pretraining '
                        '(student or teacher) or fine-tuned')
    parser.add_argument('dst', help='mmsiam checkpoint to write')
    parser.add_argument('--teacher', help='official teacher file '
                        '(checkpoint_copy-*.pth) for the target branch; SRC '
                        'is then the student')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace DST if it exists')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    state_dict = load_official_state_dict(args.src)
    try:
        if is_finetuned(state_dict):
            if args.teacher:
                raise KeyError('--teacher applies to pretraining files; SRC '
                               'is a fine-tuned checkpoint')
            converted, notes = convert_finetuned(state_dict)
        else:
            teacher = (load_official_state_dict(args.teacher)
                       if args.teacher else None)
            converted, notes = convert_pretrain(state_dict, teacher)
    except KeyError as err:
        sys.exit(f'error: {args.src}: {err.args[0]}')
    meta = dict(converted_from=args.src, teacher_from=args.teacher,
                converter='conmim_official_to_mmsiam', method='ConMIM')
    save_converted(converted, meta, notes, args.dst,
                   overwrite=args.overwrite)


if __name__ == '__main__':
    main()
