#!/usr/bin/env python
"""Export the encoder of an mmsiam checkpoint as a timm state dict.

SiameseIM and MULAN ViTs become timm ``VisionTransformer`` weights
(``vit_*``), ConMIM's BEiT-style encoder timm ``Beit`` weights (``beit_*``,
one relative position bias table per block), MULAN's ResNets timm
``ResNet`` weights (``resnet*``, whose keys are mmpretrain's). The tool
loads the export into ``timm.create_model(MODEL, num_classes=0, **kwargs)``
with ``strict=True`` before writing it, so a key that does not match is an
error, never a warning; ``--model`` and ``--timm-kwargs`` replace what it
found.

ViT: width and depth give the size (``vit_base_patch16_224``...), the patch
embedding the patch size, the position table the image size. The kwargs
are those the encoder needs beyond the model's defaults:
``final_norm=False`` for SiameseIM's encoder, which has no final norm;
``global_pool='token'`` for BEiT, whose final norm is then ``norm``; image
and patch size when they differ from the name's. An encoder of another
size (the ``_demo`` configs' 4-block ViTs) becomes ``vit_base_patch16_224``
/ ``beit_base_patch16_224`` with ``embed_dim``, ``depth``, ``mlp_ratio``
(from the weights) and ``num_heads``, which the weights do not give: it is
read from the encoder config the checkpoint records (the runner's config,
or the ``meta`` of ``extract_backbone.py``), else an error asks for
``--timm-kwargs num_heads=N``.

ResNet: the blocks per stage give the depth (``resnet18``... ``resnet152``;
another count: ``resnet18`` / ``resnet50`` with ``layers``), the widths
``channels`` (planes per stage) when they are not 64 to 512. timm's 7x7
stem always has 64 channels, so a narrower stem (the demos' width-16
ResNet-18) is padded with zero channels and its identity shortcut in
``layer1.0`` written as timm's 1x1 downsample: the features are unchanged.
A deep stem or an average-pool downsample is an error.

The call is printed and stored in ``meta``. Output: ``{'state_dict': {timm
keys}, 'meta': {timm_model, timm_kwargs, source, branch, method,
backbone}}``;
``timm.models.load_checkpoint(model, OUT, strict=True)`` reads it.
``timm_model.forward_features(x)`` then equals the mmsiam ViT's tokens
``backbone(x)[0]`` ``(B, 1 + N, D)`` (SiameseIM, ConMIM), and its cls token
``[:, 0]`` the ``(B, D)`` feature of MULAN's ``DINOViT``; for a ResNet
``timm_model(x)`` ``(B, C)`` equals the average of the last stage,
``backbone(x)[-1].mean((2, 3))``.

Example::

    python tools/model_converters/mmsiam_to_timm.py \\
        work_dirs/siameseim/epoch_1600.pth siameseim_vit-base_timm.pth
"""
import math
import sys
from typing import Optional, Tuple

import torch

from mmengine.config import DictAction

from checkpoint_io import load_strictly, save_checkpoint
from extract_backbone import branch_export_parser, load_backbone
from key_mapping import TIMM_BLOCK_PARTS, block_depth, map_keys
from resnet_layout import (STANDARD_CHANNELS, STANDARD_STEM, is_resnet,
                           resnet_layout)

from mmsiam.checkpoint.encoder_config import encoder_arch
from mmsiam.runtime import setup_runtime

# mmpretrain ViT / BEiT encoder keys (``backbone.`` removed) -> timm keys;
# a target of None drops the key.
TIMM_RULES = [
    # pretraining-only parts and index buffers timm rebuilds itself
    ('mask_token', None),
    (r'(rel_pos_bias|layers\.\d+\.attn)\.relative_position_index', None),
    (r'patch_embed\.projection\.(weight|bias)', r'patch_embed.proj.\1'),
    ('cls_token', 'cls_token'),
    ('pos_embed', 'pos_embed'),
    (r'layers\.(\d+)\.(?P<rest>.+)', r'blocks.\1.{block}'),
    (r'ln1\.(weight|bias)', r'norm.\1'),  # the final norm
]
# (width, depth) -> timm size name.
TIMM_SIZES = {(192, 12): 'tiny', (384, 12): 'small', (768, 12): 'base',
              (1024, 24): 'large', (1280, 32): 'huge'}
# timm's 7x7 ResNet stem always has torchvision's width; torch's (and
# timm's) BatchNorm eps.
TIMM_STEM = STANDARD_STEM
BN_EPS = 1e-5


def parse_args(argv=None):
    parser = branch_export_parser(
        'Export an mmsiam ViT or ResNet encoder as a timm state dict',
        'timm state dict to write')
    parser.add_argument('--model', help='timm model name (default: found '
                        'from the weights, e.g. vit_base_patch16_224)')
    parser.add_argument(
        '--timm-kwargs', nargs='+', action=DictAction, default={},
        metavar='KEY=VALUE', help='timm.create_model arguments, which '
        'replace those found (e.g. num_heads=2 for a ViT of a size timm '
        'does not name, when the checkpoint records no config)')
    return parser.parse_args(argv)


def to_timm_keys(encoder: dict) -> dict:
    """mmpretrain ViT / BEiT encoder keys (``backbone.`` removed) -> timm
    keys; an unknown key is a KeyError that names it."""
    renamed, unknown = map_keys(encoder, TIMM_RULES, TIMM_BLOCK_PARTS)
    if unknown:
        raise KeyError(f'{len(unknown)} encoder keys have no timm name: '
                       f'{sorted(unknown)[:8]}')
    return renamed


def recorded_heads(encoder: Optional[dict], width: int, depth: int) -> int:
    """The number of attention heads, which the weights do not give, from
    the encoder config the checkpoint records (``load_backbone``; its
    ``arch`` a dict or a name in its class's ``arch_zoo``) when that
    describes this ``width`` and ``depth``; otherwise a ValueError that
    says to pass it."""
    arch = encoder_arch(encoder)
    if arch.get('num_heads') and (arch.get('embed_dims'),
                                  arch.get('num_layers')) == (width, depth):
        return arch['num_heads']
    if arch:
        recorded = (f'records a {arch["embed_dims"]}-wide encoder of '
                    f'{arch["num_layers"]} blocks')
    else:
        recorded = ('records no ViT arch' if encoder else 'records no '
                    'encoder config (no meta["cfg"] or meta["backbone"])')
    raise ValueError(
        f'no timm model name has width {width} and depth {depth}, and the '
        'number of attention heads is not in the weights; the checkpoint '
        f'{recorded}: pass --timm-kwargs num_heads=N')


def timm_vit(state_dict: dict, encoder: Optional[dict],
             num_heads: Optional[int] = None) -> Tuple[str, dict]:
    """The timm model for timm ViT / BEiT keys and the kwargs it needs.

    Args:
        state_dict (dict): :func:`to_timm_keys` of the encoder.
        encoder (dict, optional): The encoder config the checkpoint records
            (``load_backbone``; None if unknown), for the number of heads
            of a size that timm does not name.
        num_heads (int, optional): The number of heads the user gave, which
            ``encoder`` then need not give.

    Returns:
        tuple[str, dict]: e.g. ``('vit_base_patch16_224',
        {'final_norm': False})``; a size that timm does not name:
        ``('vit_base_patch16_224', {'embed_dim': 64, 'depth': 4,
        'num_heads': 2, 'mlp_ratio': 4.0, 'img_size': 64, 'patch_size': 8,
        'final_norm': False})``.
    """
    import timm
    beit = any(k.endswith(('q_bias', 'relative_position_bias_table'))
               for k in state_dict)
    family = 'beit' if beit else 'vit'
    width = state_dict['cls_token'].shape[-1]
    depth = block_depth(state_dict, 'blocks')
    patch = state_dict['patch_embed.proj.weight'].shape[-1]
    if beit:
        table = state_dict['blocks.0.attn.relative_position_bias_table']
        # (2G - 1)^2 relative offsets and 3 cls rows
        grid = (math.isqrt(table.shape[0] - 3) + 1) // 2
    else:
        grid = math.isqrt(state_dict['pos_embed'].shape[1] - 1)
    model = f'{family}_{TIMM_SIZES.get((width, depth))}_patch16_224'
    kwargs = {}
    if (width, depth) not in TIMM_SIZES or not timm.is_model(model):
        model = f'{family}_base_patch16_224'
        hidden = state_dict['blocks.0.mlp.fc1.weight'].shape[0]  # (H, D)
        kwargs.update(
            embed_dim=width, depth=depth,
            num_heads=num_heads or recorded_heads(encoder, width, depth),
            mlp_ratio=hidden / width)
    if (grid * patch, patch) != (224, 16):
        kwargs.update(img_size=grid * patch, patch_size=patch)
    has_norm = 'norm.weight' in state_dict
    if beit:
        if has_norm:
            kwargs['global_pool'] = 'token'
        if 'blocks.0.gamma_1' not in state_dict:
            kwargs['init_values'] = None
    elif not has_norm:
        kwargs['final_norm'] = False
    return model, kwargs


def widen_stem(encoder: dict, stem_width: int) -> dict:
    """ResNet encoder keys with their ``stem_width``-channel 7x7 stem
    embedded in timm's 64-channel one; the features are unchanged.

    timm's plain stem has 64 channels whatever its ``stem_width`` (which
    sizes deep stems only). The added channels are zero: ``conv1.weight``
    ``(C, 3, 7, 7)`` -> ``(64, 3, 7, 7)`` and ``bn1`` ``(C,)`` -> ``(64,)``
    with zero weight and bias (0 after ReLU and max pooling);
    ``layer1.0.conv1.weight`` and ``layer1.0.downsample.0.weight``
    ``(O, C, k, k)`` -> ``(O, 64, k, k)`` with zero input channels. A first
    block with an identity shortcut (``O == C``) gets timm's downsample
    instead: ``downsample.0.weight`` ``(C, 64, 1, 1)`` copies the C
    channels, ``downsample.1`` a BatchNorm whose running variance
    ``1 - eps`` makes it the identity.

    Raises:
        ValueError: a stem wider than 64 channels.
    """
    if stem_width > TIMM_STEM:
        raise ValueError(f'the encoder has {stem_width} stem channels; '
                         f"timm's ResNet stem has {TIMM_STEM} (stem_width "
                         'sizes deep stems only) and cannot hold more')
    out = dict(encoder)
    extra = TIMM_STEM - stem_width

    def pad(key, dim, fill=0.):
        tensor = out[key]
        shape = list(tensor.shape)
        shape[dim] = extra
        out[key] = torch.cat([tensor, tensor.new_full(shape, fill)], dim)

    pad('conv1.weight', 0)
    for name in ('weight', 'bias', 'running_mean'):
        pad(f'bn1.{name}', 0)
    pad('bn1.running_var', 0, fill=1.)
    pad('layer1.0.conv1.weight', 1)
    if 'layer1.0.downsample.0.weight' in out:
        pad('layer1.0.downsample.0.weight', 1)
    else:
        like = out['conv1.weight']
        identity = torch.eye(stem_width, TIMM_STEM, dtype=like.dtype)
        out.update({
            'layer1.0.downsample.0.weight':
            identity.view(stem_width, TIMM_STEM, 1, 1),
            'layer1.0.downsample.1.weight': like.new_ones(stem_width),
            'layer1.0.downsample.1.bias': like.new_zeros(stem_width),
            'layer1.0.downsample.1.running_mean': like.new_zeros(stem_width),
            'layer1.0.downsample.1.running_var':
            like.new_full((stem_width, ), 1 - BN_EPS),
            'layer1.0.downsample.1.num_batches_tracked':
            out['bn1.num_batches_tracked'].new_zeros(()),
        })
    return out


def timm_resnet(encoder: dict) -> Tuple[dict, str, dict]:
    """The timm state dict, model and kwargs of mmpretrain ResNet encoder
    keys (``backbone.`` removed); a layout that timm has no ResNet for is a
    ValueError that names it.

    Returns:
        tuple[dict, str, dict]: e.g. for the demos' width-16 ResNet-18 the
        keys with a widened stem (:func:`widen_stem`), ``'resnet18'`` and
        ``{'channels': (16, 32, 64, 128)}``.
    """
    layout = resnet_layout(encoder)
    basic = 18 if layout.block == 'basic' else 50
    kwargs = {}
    if layout.depth is None:
        kwargs['layers'] = layout.stages
    if layout.channels != STANDARD_CHANNELS:
        kwargs['channels'] = layout.channels
    if layout.stem_width != TIMM_STEM:
        encoder = widen_stem(encoder, layout.stem_width)
        print(f"note: timm's ResNet stem has {TIMM_STEM} channels: the "
              f'{layout.stem_width} of this encoder were padded with zero '
              'channels (and an identity shortcut of layer1.0 written as a '
              '1x1 convolution), which leaves the features unchanged')
    return encoder, f'resnet{layout.depth or basic}', kwargs


def check_strict_load(state_dict: dict, model: str, kwargs: dict):
    """Load ``state_dict`` into the timm model with ``strict=True``; a
    mismatch is a KeyError naming the keys."""
    import timm
    net = timm.create_model(model, pretrained=False, num_classes=0, **kwargs)
    return load_strictly(net, state_dict, f'timm {model}({kwargs})')


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    weights, info = load_backbone(args.checkpoint, args.branch)
    encoder = {k[len('backbone.'):]: v for k, v in weights.items()}
    try:
        if is_resnet(encoder):
            state_dict, model, kwargs = timm_resnet(encoder)
        else:
            state_dict = to_timm_keys(encoder)
            model, kwargs = timm_vit(state_dict, info['backbone'],
                                     args.timm_kwargs.get('num_heads'))
        model = args.model or model
        kwargs.update(args.timm_kwargs)
        check_strict_load(state_dict, model, kwargs)
    except (KeyError, ValueError) as err:
        sys.exit(f'error: {args.checkpoint}: {err.args[0]}')
    meta = dict(source=args.checkpoint, **info, timm_model=model,
                timm_kwargs=kwargs)
    save_checkpoint(dict(state_dict=state_dict, meta=meta), args.out,
                    overwrite=args.overwrite)
    call = ', '.join([repr(model), 'num_classes=0'] +
                     [f'{k}={v!r}' for k, v in kwargs.items()])
    print(f'{info["method"] or "unknown method"}: wrote {len(state_dict)} '
          f'{info["branch"]} encoder keys to {args.out}; load with\n'
          f'  model = timm.create_model({call})\n'
          f'  timm.models.load_checkpoint(model, {args.out!r}, strict=True)')


if __name__ == '__main__':
    main()
