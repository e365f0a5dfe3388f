"""Renaming ViT keys between the official / timm style (``blocks.<i>.norm1``,
``mlp.fc1``, MAE, BEiT) and mmpretrain's names (``layers.<i>.ln1``,
``ffn.layers.0.0``), in both directions."""
import re
from typing import Dict, Iterable, List, Tuple

import torch

# Official ViT block parts -> mmpretrain ``TransformerEncoderLayer`` parts.
VIT_BLOCK_PARTS = (
    ('norm1.', 'ln1.'),
    ('norm2.', 'ln2.'),
    ('attn.', 'attn.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
    ('gamma_1', 'gamma_1'),  # BEiT layer scale
    ('gamma_2', 'gamma_2'),
)

# mmpretrain block parts -> timm's (the other direction, for exports).
TIMM_BLOCK_PARTS = tuple((ours, official)
                         for official, ours in VIT_BLOCK_PARTS)

BLOCK = r'\.(\d+)\.(?P<rest>.+)'


def vit_encoder_rules(dst: str, src: str = '') -> List[Tuple[str, str]]:
    """:func:`map_keys` rules for a timm-style ViT's patch embedding, cls
    token and blocks named ``<src>patch_embed.proj``, ``<src>cls_token``,
    ``<src>blocks.<i>.*`` into mmpretrain names under ``dst``."""
    return [
        (src + r'patch_embed\.proj\.(weight|bias)',
         dst + r'patch_embed.projection.\1'),
        (src + 'cls_token', dst + 'cls_token'),
        (src + 'blocks' + BLOCK, dst + r'layers.\1.{block}'),
    ]


def rename_block_key(rest: str, parts=VIT_BLOCK_PARTS) -> str:
    """'norm1.bn.weight' -> 'ln1.bn.weight', 'mlp.fc2.bias' ->
    'ffn.layers.1.bias' (the part after ``blocks.<i>.``); with
    ``parts=TIMM_BLOCK_PARTS`` the other way."""
    for src, dst in parts:
        if rest.startswith(src):
            return dst + rest[len(src):]
    raise KeyError(rest)


def map_keys(state_dict: Dict, rules: Iterable[Tuple[str, str]],
             block_parts=VIT_BLOCK_PARTS) -> Tuple[Dict, List[str]]:
    """Rename keys by the first matching ``(regex, template)`` rule.

    A template may use the regex groups (``\\1``) and ``{block}``, which is
    replaced by :func:`rename_block_key` (with ``block_parts``) of the
    group named ``rest``.
    Keys that no rule matches are returned as unknown; a template of None
    drops the key.

    Returns:
        tuple[dict, list[str]]: renamed state dict and unknown keys.
    """
    compiled = [(re.compile(pattern), template) for pattern, template in rules]
    out, unknown = {}, []
    for key, value in state_dict.items():
        for pattern, template in compiled:
            match = pattern.fullmatch(key)
            if match is None:
                continue
            if template is not None:
                new = match.expand(template.replace('{block}', ''))
                if '{block}' in template:
                    new += rename_block_key(match.group('rest'),
                                            block_parts)
                out[new] = value
            break
        else:
            unknown.append(key)
    return out, unknown


def block_depth(state_dict: Dict, prefix: str) -> int:
    """Number of ``<prefix>.<i>.*`` blocks (largest ``i`` + 1, 0 if none)."""
    found = {int(m.group(1)) for k in state_dict
             for m in [re.match(re.escape(prefix) + r'\.(\d+)\.', k)] if m}
    return max(found) + 1 if found else 0


def expand_shared_rel_pos_bias(state_dict: Dict[str, torch.Tensor],
                               prefix: str = 'backbone.') -> bool:
    """Replace a BEiT shared relative position bias by per-layer copies.

    ``<prefix>rel_pos_bias.relative_position_bias_table`` ``(R, heads)``
    becomes ``<prefix>layers.<i>.attn.relative_position_bias_table`` for
    every block ``i``, and ``<prefix>rel_pos_bias.*`` is removed, in place
    (mmseg's ``BEiT`` and mmpretrain's ``BEiTViT(use_rel_pos_bias=True)``
    take per-layer tables). Returns whether there was a shared table.
    """
    shared = state_dict.pop(
        f'{prefix}rel_pos_bias.relative_position_bias_table', None)
    if shared is None:
        return False
    state_dict.pop(f'{prefix}rel_pos_bias.relative_position_index', None)
    for i in range(block_depth(state_dict, f'{prefix}layers')):
        state_dict[f'{prefix}layers.{i}.attn.relative_position_bias_table'] = \
            shared.clone()
    return True
