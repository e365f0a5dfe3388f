#!/usr/bin/env python
"""Convert an official MULAN checkpoint to mmsiam.

Accepted files:

* training checkpoints and releases with ``online_model`` (DDP keys
  ``module.backbone.*``, ``module.projector.<i>.*``,
  ``module.predictors.<task>.<i>.*``) and/or ``target_model`` (the same
  without ``module.``);
* plain backbone state dicts (``backbone.pth``, ``backbone_tgt.pth``),
  with or without a ``module.backbone.`` / ``backbone.`` prefix.

A file with ``online_model`` becomes a full mmsiam MULAN checkpoint
(online backbone, projector and predictors; the target backbone and
projector from ``target_model``, or copies of the online ones) that loads
with ``strict=True`` into the model of the matching config. With
``--backbone-only``, or for a plain backbone file, the output is
``backbone.*`` only, from ``--branch online`` (default) or ``target`` (the
released ViT models are target encoders).

Key mapping (official -> mmsiam):

    ResNet conv1, bn1, layerN.j.*    -> backbone.<same>
    ViT patch_embed.proj, cls_token, pos_embed,
        blocks.i.{norm1,norm2,attn,mlp.fc1,mlp.fc2}, norm
        -> backbone.patch_embed.projection, .cls_token, .pos_embed,
           .layers.i.{ln1,ln2,attn,ffn.layers.0.0,ffn.layers.1}, .ln1
    projector.<3k> / <3k+1>          -> neck.fc<k> / neck.bn<k>
    predictors.<task>.<3k> / <3k+1>  -> head.predictors.<task>.fc<k> / .bn<k>
    target backbone / projector      -> target.module.0 / .1
    target predictors                -> dropped (never used)

Unknown keys stop the conversion and are named.

Example::

    python tools/model_converters/mulan_official_to_mmsiam.py \\
        checkpoint_epoch_0200.pth mulan-byol_resnet50_200e.pth
    python tools/model_converters/mulan_official_to_mmsiam.py \\
        byol_multitask_vits_200ep_tgt_ckpt.pth vits_backbone.pth \\
        --backbone-only --branch target
"""
import argparse
import re
import sys

import torch

from mmsiam.runtime import setup_runtime
from checkpoint_io import load_official_checkpoint, save_converted
from key_mapping import map_keys, vit_encoder_rules

VIT_RULES = vit_encoder_rules('') + [
    (r'pos_embed', 'pos_embed'),
    (r'norm\.(weight|bias)', r'ln1.\1'),
]
RESNET_RULES = [(r'(conv1|bn1|layer\d)\.(.+)', r'\1.\2')]
# Every parameter of a timm / DINO ViT block.
VIT_BLOCK_KEYS = {f'{part}.{p}' for part in ('norm1', 'norm2', 'attn.qkv',
                                             'attn.proj', 'mlp.fc1',
                                             'mlp.fc2')
                  for p in ('weight', 'bias')}
MLP_INDEX = re.compile(r'(\d+)\.(.+)')


def strip_prefix(state_dict, prefixes=('module.', )):
    out = {}
    for key, value in state_dict.items():
        for prefix in prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
        out[key] = value
    return out


def convert_backbone(weights, dst):
    """timm / torchvision backbone keys -> ``dst`` + mmpretrain names."""
    vit = 'patch_embed.proj.weight' in weights
    converted, unknown = map_keys(weights, VIT_RULES if vit else RESNET_RULES)
    if vit:
        unknown += [k for k in weights if k.startswith('blocks.')
                    and k.split('.', 2)[2] not in VIT_BLOCK_KEYS]
    if unknown:
        raise KeyError(f'unknown backbone keys: {unknown[:10]}')
    if not converted:
        raise KeyError('no backbone weights found')
    return {dst + k: v for k, v in converted.items()}


def convert_mlp(weights, dst):
    """``Sequential`` keys ``<3k>.*`` / ``<3k+1>.*`` (Linear / BN) ->
    ``dst + fc<k>.*`` / ``bn<k>.*``."""
    out = {}
    for key, value in weights.items():
        match = MLP_INDEX.fullmatch(key)
        if match is None or int(match.group(1)) % 3 == 2:  # ReLU: no keys
            raise KeyError(f'unknown MLP key {key}')
        layer, kind = divmod(int(match.group(1)), 3)
        out[f'{dst}{"fc" if kind == 0 else "bn"}{layer}.{match.group(2)}'] \
            = value
    return out


def split(state_dict):
    """{'backbone': ..., 'projector': ..., 'predictors.<task>': ...}."""
    parts = {}
    for key, value in strip_prefix(state_dict).items():
        match = re.match(r'(backbone|projector|predictors\.\w+)\.(.+)', key)
        if match is None:
            raise KeyError(f'unknown key {key} (expected backbone.*, '
                           'projector.* or predictors.<task>.*)')
        parts.setdefault(match.group(1), {})[match.group(2)] = value
    return parts


def convert_network(state_dict, backbone, projector, predictors=None):
    parts = split(state_dict)
    converted = convert_backbone(parts.pop('backbone', {}), backbone)
    converted.update(convert_mlp(parts.pop('projector', {}), projector))
    for name, weights in parts.items():  # predictors.<task>
        if predictors is not None:
            task = name.split('.', 1)[1]
            converted.update(convert_mlp(weights, f'{predictors}{task}.'))
    return converted


def convert(checkpoint, backbone_only=False, branch='online'):
    """Returns (state dict, notes)."""
    networks = {b: checkpoint[f'{b}_model']
                for b in ('online', 'target') if f'{b}_model' in checkpoint}
    if not networks:  # a plain backbone
        weights = checkpoint.get('state_dict', checkpoint)
        weights = strip_prefix(weights, ('module.', 'backbone.'))
        return convert_backbone(weights, 'backbone.'), [
            'plain backbone file: wrote backbone.* only']
    if backbone_only or 'online' not in networks:
        if branch not in networks:
            branch = next(iter(networks))
        parts = split(networks[branch])
        return convert_backbone(parts['backbone'], 'backbone.'), [
            f'wrote the {branch} backbone only']
    converted = convert_network(networks['online'], 'backbone.', 'neck.',
                                'head.predictors.')
    notes = []
    if 'target' in networks:
        converted.update(convert_network(networks['target'],
                                         'target.module.0.',
                                         'target.module.1.'))
        notes.append('target predictors dropped (never used)')
    else:
        for key in list(converted):
            for online, target in (('backbone.', 'target.module.0.'),
                                   ('neck.', 'target.module.1.')):
                if key.startswith(online):
                    converted[target + key[len(online):]] = \
                        converted[key].clone()
        notes.append('no target_model: the target is a copy of the online '
                     'network')
    converted['target.steps'] = torch.tensor(0)
    notes.append('target.steps set to 0')
    return converted, notes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official MULAN checkpoint to mmsiam')
    parser.add_argument('src', help='official checkpoint (.pth)')
    parser.add_argument('dst', help='mmsiam checkpoint to write')
    parser.add_argument('--backbone-only', action='store_true',
                        help='write backbone.* only')
    parser.add_argument('--branch', choices=['online', 'target'],
                        default='online',
                        help='the backbone written by --backbone-only')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace DST if it exists')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    checkpoint = load_official_checkpoint(args.src)
    try:
        converted, notes = convert(checkpoint, args.backbone_only,
                                   args.branch)
    except KeyError as err:
        sys.exit(f'error: {args.src}: {err.args[0]}')
    meta = dict(converted_from=args.src, converter='mulan_official_to_mmsiam',
                method='MULAN')
    save_converted(converted, meta, notes, args.dst, overwrite=args.overwrite)


if __name__ == '__main__':
    main()
