"""Renaming official (timm / MAE style) ViT keys to mmpretrain's names."""
import re
from typing import Dict, Iterable, List, Tuple

# Official ViT block parts -> mmpretrain ``TransformerEncoderLayer`` parts.
VIT_BLOCK_PARTS = (
    ('norm1.', 'ln1.'),
    ('norm2.', 'ln2.'),
    ('attn.', 'attn.'),
    ('mlp.fc1.', 'ffn.layers.0.0.'),
    ('mlp.fc2.', 'ffn.layers.1.'),
)


def rename_block_key(rest: str) -> str:
    """'norm1.bn.weight' -> 'ln1.bn.weight', 'mlp.fc2.bias' ->
    'ffn.layers.1.bias' (the part after ``blocks.<i>.``)."""
    for official, ours in VIT_BLOCK_PARTS:
        if rest.startswith(official):
            return ours + rest[len(official):]
    raise KeyError(rest)


def map_keys(state_dict: Dict, rules: Iterable[Tuple[str, str]]
             ) -> Tuple[Dict, List[str]]:
    """Rename keys by the first matching ``(regex, template)`` rule.

    A template may use the regex groups (``\\1``) and ``{block}``, which is
    replaced by :func:`rename_block_key` of the group named ``rest``.
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
                    new += rename_block_key(match.group('rest'))
                out[new] = value
            break
        else:
            unknown.append(key)
    return out, unknown
