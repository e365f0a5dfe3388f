#!/usr/bin/env python
"""Convert an official SiameseIM checkpoint to mmsiam.

* A pretraining checkpoint (``{'model': ...}`` with ``blocks.*``,
  ``projector_decoder_blocks.*``, ``predictor_decoder_blocks.*``,
  ``decoder_pos_mlp.*``, ``mm_*`` target keys; training files with
  ``optimizer``/``args`` too) becomes a full mmsiam SiameseIM checkpoint
  (online and target branches, BatchNorm buffers included) that loads with
  ``strict=True`` into the model of
  ``configs/siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py``.
  Files without ``mm_*`` keys get a target equal to the online branch.
* A fine-tuned checkpoint (encoder + ``fc_norm`` + ``head``) becomes a
  backbone-only checkpoint (``backbone.*``; ``fc_norm`` -> ``backbone.ln2``,
  use ``out_type='avg_featmap'``); the classifier ``head`` is dropped.

Key mapping (official -> mmsiam):

    patch_embed.proj / cls_token / pos_embed
        -> backbone.patch_embed.projection / backbone.cls_token / .pos_embed
    blocks.i.{norm1,norm2,attn,mlp.fc1,mlp.fc2}
        -> backbone.layers.i.{ln1,ln2,attn,ffn.layers.0.0,ffn.layers.1}
    decoder_embed, projector_decoder_blocks.k
        -> neck.decoder_embed, neck.blocks.k
    predictor_decoder_blocks.k, mask_token, decoder_pos_embed, decoder_pos_mlp,
        decoder_pred -> head.blocks.k, head.mask_token, head.decoder_pos_embed,
                        head.pos_mlp, head.pred
    mm_patch_embed, mm_cls_token, mm_blocks -> target.module.0.*
    mm_decoder_embed, mm_projector_decoder_blocks -> target.module.1.*
    mm_mask_token -> dropped (unused by the method)

Unknown keys and missing keys are reported by name and stop the conversion.

Example::

    python tools/model_converters/siameseim_official_to_mmsiam.py \\
        sim_base_1600ep_pretrain.pth siameseim_vit-base_1600e_mmsiam.pth
"""
import argparse
import sys

import torch

from mmsiam.runtime import setup_runtime
from checkpoint_io import (load_official_state_dict,
                                        save_converted)
from key_mapping import (BLOCK, block_depth, map_keys,
                                      vit_encoder_rules)

ENCODER_RULES = vit_encoder_rules('backbone.') + [
    (r'pos_embed', 'backbone.pos_embed'),
]
PRETRAIN_RULES = ENCODER_RULES + [
    (r'decoder_embed\.(weight|bias)', r'neck.decoder_embed.\1'),
    (r'projector_decoder_blocks' + BLOCK, r'neck.blocks.\1.{block}'),
    (r'predictor_decoder_blocks' + BLOCK, r'head.blocks.\1.{block}'),
    (r'mask_token', 'head.mask_token'),
    (r'decoder_pos_embed', 'head.decoder_pos_embed'),
    (r'decoder_pos_mlp\.(weight|bias)', r'head.pos_mlp.\1'),
    (r'decoder_pred\.(weight|bias)', r'head.pred.\1'),
] + vit_encoder_rules('target.module.0.', src='mm_') + [
    (r'mm_decoder_embed\.(weight|bias)', r'target.module.1.decoder_embed.\1'),
    (r'mm_projector_decoder_blocks' + BLOCK,
     r'target.module.1.blocks.\1.{block}'),
    (r'mm_mask_token', None),
]
FINETUNE_RULES = ENCODER_RULES + [
    (r'fc_norm\.(weight|bias)', r'backbone.ln2.\1'),
    (r'head\.(weight|bias)', None),
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official SiameseIM checkpoint to mmsiam')
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='mmsiam checkpoint to write')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace DST if it exists')
    return parser.parse_args(argv)


def is_finetuned(state_dict) -> bool:
    return 'decoder_embed.weight' not in state_dict and (
        'fc_norm.weight' in state_dict or 'head.weight' in state_dict)


def official_block_keys(prefix, depth, token_bn):
    norm = ['bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var',
            'bn.num_batches_tracked'] if token_bn else ['weight', 'bias']
    parts = [f'{n}.{p}' for n in ('norm1', 'norm2') for p in norm] + [
        f'{m}.{p}' for m in ('attn.qkv', 'attn.proj', 'mlp.fc1', 'mlp.fc2')
        for p in ('weight', 'bias')
    ]
    return [f'{prefix}.{i}.{part}' for i in range(depth) for part in parts]


def official_pretrain_keys(state_dict):
    """Every key an official pretraining file of these depths holds."""
    encoder = block_depth(state_dict, 'blocks')
    projector = block_depth(state_dict, 'projector_decoder_blocks')
    keys = ['pos_embed', 'cls_token', 'patch_embed.proj.weight',
            'patch_embed.proj.bias', 'decoder_embed.weight',
            'decoder_embed.bias', 'mask_token', 'decoder_pos_embed',
            'decoder_pos_mlp.weight', 'decoder_pos_mlp.bias',
            'decoder_pred.weight', 'decoder_pred.bias']
    keys += official_block_keys('blocks', encoder, False)
    keys += official_block_keys('projector_decoder_blocks', projector, True)
    keys += official_block_keys(
        'predictor_decoder_blocks',
        block_depth(state_dict, 'predictor_decoder_blocks'), True)
    if any(k.startswith('mm_') for k in state_dict):
        keys += ['mm_patch_embed.proj.weight', 'mm_patch_embed.proj.bias',
                 'mm_cls_token', 'mm_decoder_embed.weight',
                 'mm_decoder_embed.bias']
        keys += official_block_keys('mm_blocks', encoder, False)
        keys += official_block_keys('mm_projector_decoder_blocks', projector,
                                    True)
    return keys


def complete_target(converted):
    """Fill what the official file does not store for the target branch."""
    online_to_target = {'backbone.': 'target.module.0.',
                        'neck.': 'target.module.1.'}
    has_target = any(k.startswith('target.') for k in converted)
    for key in list(converted):
        for online, target in online_to_target.items():
            if key.startswith(online):
                target_key = target + key[len(online):]
                if key == 'backbone.pos_embed' or not has_target:
                    converted.setdefault(target_key, converted[key].clone())
    converted['target.steps'] = torch.tensor(0)
    return has_target


def convert(state_dict):
    """Returns (mmsiam state dict, list of notes)."""
    notes = []
    if is_finetuned(state_dict):
        converted, unknown = map_keys(state_dict, FINETUNE_RULES)
        if unknown:
            raise KeyError(f'unknown keys in a fine-tuned checkpoint: '
                           f'{unknown}')
        missing = [k for k in ('backbone.cls_token', 'backbone.pos_embed',
                               'backbone.patch_embed.projection.weight')
                   if k not in converted]
        if missing:
            raise KeyError(f'missing keys: {missing}')
        notes.append('fine-tuned checkpoint: wrote backbone.* only; the '
                     'classifier head was dropped')
        return converted, notes
    converted, unknown = map_keys(state_dict, PRETRAIN_RULES)
    if unknown:
        raise KeyError(f'unknown keys in a pretraining checkpoint: {unknown}')
    missing = [k for k in official_pretrain_keys(state_dict)
               if k not in state_dict]
    if missing or not block_depth(state_dict, 'projector_decoder_blocks'):
        raise KeyError(f'missing keys in a pretraining checkpoint: '
                       f'{missing or "projector/predictor blocks"}')
    if 'mm_mask_token' in state_dict:
        notes.append('dropped mm_mask_token (an EMA copy the method never '
                     'uses)')
    if not complete_target(converted):
        notes.append('no mm_* target keys: the target branch is a copy of '
                     'the online branch')
    notes.append('target.steps set to 0 (the official file has no EMA step '
                 'counter)')
    return converted, notes


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    state_dict = load_official_state_dict(args.src)
    try:
        converted, notes = convert(state_dict)
    except KeyError as err:
        sys.exit(f'error: {args.src}: {err.args[0]}')
    meta = dict(converted_from=args.src,
                converter='siameseim_official_to_mmsiam', method='SiameseIM')
    save_converted(converted, meta, notes, args.dst,
                   overwrite=args.overwrite)


if __name__ == '__main__':
    main()
