#!/usr/bin/env python
"""Export the ViT encoder of an mmsiam checkpoint as a timm state dict.

SiameseIM and MULAN ViTs become timm ``VisionTransformer`` weights
(``vit_*``), ConMIM's BEiT-style encoder timm ``Beit`` weights (``beit_*``,
one relative position bias table per block). The timm model is found from
the weights (width and depth give the size, the patch embedding the patch
size, the position table the image size) or given with ``--model`` and
``--timm-kwargs`` (an encoder of another size); the
tool loads the export into ``timm.create_model(MODEL, num_classes=0,
**kwargs)`` with ``strict=True`` before writing it, so a key that does not
match is an error, never a warning. The kwargs are those the encoder needs
beyond the model's defaults (``final_norm=False`` for SiameseIM's encoder,
which has no final norm; ``global_pool='token'`` for BEiT, whose final
norm is then ``norm``; image and patch size when they differ from the
name's) and are printed and stored in ``meta``.

Output: ``{'state_dict': {timm keys}, 'meta': {timm_model, timm_kwargs,
source, branch, method}}``; ``timm.models.load_checkpoint(model, OUT,
strict=True)`` reads it. ``timm_model.forward_features(x)`` then equals the
mmsiam encoder's tokens ``backbone(x)[0]`` ``(B, 1 + N, D)`` (SiameseIM,
ConMIM), and its cls token ``[:, 0]`` the ``(B, D)`` feature of MULAN's
``DINOViT``.

Example::

    python tools/model_converters/mmsiam_to_timm.py \\
        work_dirs/siameseim/epoch_1600.pth siameseim_vit-base_timm.pth
"""
import math
import sys
from typing import Optional

from mmengine.config import DictAction

from checkpoint_io import load_strictly, save_checkpoint
from extract_backbone import branch_export_parser, load_backbone
from key_mapping import TIMM_BLOCK_PARTS, block_depth, map_keys

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


def parse_args(argv=None):
    parser = branch_export_parser(
        'Export an mmsiam ViT encoder as a timm state dict',
        'timm state dict to write')
    parser.add_argument('--model', help='timm model name (default: found '
                        'from the weights, e.g. vit_base_patch16_224)')
    parser.add_argument(
        '--timm-kwargs', nargs='+', action=DictAction, default={},
        metavar='KEY=VALUE', help='more timm.create_model arguments, for '
        'encoders of another size (e.g. depth=4 num_heads=2)')
    return parser.parse_args(argv)


def to_timm_keys(weights: dict) -> dict:
    """``backbone.*`` mmpretrain keys -> timm keys; an unknown key is a
    KeyError that names it."""
    encoder = {k[len('backbone.'):]: v for k, v in weights.items()}
    if any(k.startswith(('layer1.', 'conv1.')) for k in encoder):
        raise KeyError('this is a ResNet encoder: export it with '
                       'tools/model_converters/mmsiam_to_torchvision.py')
    renamed, unknown = map_keys(encoder, TIMM_RULES, TIMM_BLOCK_PARTS)
    if unknown:
        raise KeyError(f'{len(unknown)} encoder keys have no timm name: '
                       f'{sorted(unknown)[:8]}')
    return renamed


def timm_model_of(state_dict: dict, model: Optional[str] = None):
    """The timm model for ``state_dict`` (``model`` if given) and the
    kwargs it needs.

    Returns:
        tuple[str, dict]: e.g. ``('vit_base_patch16_224',
        {'final_norm': False})``. Without ``model``, an encoder whose width
        and depth no timm model has is a ValueError that names them.
    """
    import timm
    beit = any(k.endswith(('q_bias', 'relative_position_bias_table'))
               for k in state_dict)
    width = state_dict['cls_token'].shape[-1]
    depth = block_depth(state_dict, 'blocks')
    patch = state_dict['patch_embed.proj.weight'].shape[-1]
    if beit:
        table = state_dict['blocks.0.attn.relative_position_bias_table']
        # (2G - 1)^2 relative offsets and 3 cls rows
        grid = (math.isqrt(table.shape[0] - 3) + 1) // 2
    else:
        grid = math.isqrt(state_dict['pos_embed'].shape[1] - 1)
    kwargs = {}
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
    if model is None:
        size = TIMM_SIZES.get((width, depth))
        model = f'{"beit" if beit else "vit"}_{size}_patch16_224'
        if size is None or not timm.is_model(model):
            raise ValueError(
                f'no timm model has width {width} and depth {depth}; name '
                'one with --model and give its sizes with --timm-kwargs')
    return model, kwargs


def check_strict_load(state_dict: dict, model: str, kwargs: dict):
    """Load ``state_dict`` into the timm model with ``strict=True``; a
    mismatch is a KeyError naming the keys."""
    import timm
    net = timm.create_model(model, pretrained=False, num_classes=0, **kwargs)
    return load_strictly(net, state_dict, f'timm {model}({kwargs})')


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    weights, method, branch = load_backbone(args.checkpoint, args.branch)
    try:
        state_dict = to_timm_keys(weights)
        model, kwargs = timm_model_of(state_dict, args.model)
        kwargs.update(args.timm_kwargs)
        check_strict_load(state_dict, model, kwargs)
    except (KeyError, ValueError) as err:
        sys.exit(f'error: {args.checkpoint}: {err.args[0]}')
    meta = dict(source=args.checkpoint, branch=branch, method=method,
                timm_model=model, timm_kwargs=kwargs)
    save_checkpoint(dict(state_dict=state_dict, meta=meta), args.out,
                    overwrite=args.overwrite)
    call = ', '.join([repr(model), 'num_classes=0'] +
                     [f'{k}={v!r}' for k, v in kwargs.items()])
    print(f'{method or "unknown method"}: wrote {len(state_dict)} {branch} '
          f'encoder keys to {args.out}; load with\n'
          f'  model = timm.create_model({call})\n'
          f'  timm.models.load_checkpoint(model, {args.out!r}, strict=True)')


if __name__ == '__main__':
    main()
