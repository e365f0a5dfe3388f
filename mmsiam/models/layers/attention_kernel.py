"""One attention function for every mmsiam transformer: torch's fused
``F.scaled_dot_product_attention`` where its kernels are fastest, the
explicit product where they are not (low precision on CPU)."""
from typing import Iterable, Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.utils.attention import MultiheadAttention
from torch import Tensor, nn

# Input dtypes for which torch's CPU flash-attention kernel is slower than
# the explicit product: bf16 at batch 4 on a 2-core AMX CPU, forward and
# backward, 2.4x-3.7x (docs/performance.md, "Attention on CPU").
EXPLICIT_ON_CPU = (torch.bfloat16, torch.float16)


def explicit_attention(query: Tensor,
                       key: Tensor,
                       value: Tensor,
                       attn_mask: Optional[Tensor] = None,
                       dropout_p: float = 0.,
                       scale: Optional[float] = None) -> Tensor:
    """``softmax(q k^T * scale + mask) v`` as separate products (the form of
    timm's and BEiT's non-fused attention).

    Args:
        query (Tensor): ``(B, H, N, d)``.
        key, value (Tensor): ``(B, H, M, d)``.
        attn_mask (Tensor, optional): Additive float mask broadcastable to
            ``(B, H, N, M)``.
        dropout_p (float): Dropout on the attention weights.
        scale (float, optional): Defaults to ``d ** -0.5``.

    Returns:
        Tensor: ``(B, H, N, d)``.
    """
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        raise TypeError('explicit_attention takes an additive float mask, '
                        'not a bool one')
    scale = query.shape[-1]**-0.5 if scale is None else scale
    weights = (query * scale) @ key.transpose(-2, -1)
    if attn_mask is not None:
        weights = weights + attn_mask
    weights = weights.softmax(dim=-1)
    if dropout_p:
        weights = F.dropout(weights, dropout_p)
    return weights @ value


def scaled_dot_product_attention(query: Tensor,
                                 key: Tensor,
                                 value: Tensor,
                                 attn_mask: Optional[Tensor] = None,
                                 dropout_p: float = 0.,
                                 scale: Optional[float] = None) -> Tensor:
    """``F.scaled_dot_product_attention`` (flash / memory-efficient kernels
    on CUDA, flash on CPU in fp32), except for bf16 / fp16 inputs on CPU,
    where :func:`explicit_attention` is used: there torch's flash kernel is
    2.4x-3.7x slower than the AMX / AVX-512 matrix products of the explicit
    form at ViT lengths (79-275 tokens). Same arguments and shapes as
    :func:`explicit_attention`.
    """
    if query.device.type == 'cpu' and query.dtype in EXPLICIT_ON_CPU:
        return explicit_attention(query, key, value, attn_mask, dropout_p,
                                  scale)
    return F.scaled_dot_product_attention(
        query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
        scale=scale)


def use_attention_kernel(layers: Iterable[nn.Module]) -> None:
    """Route the attention of every mmpretrain ``MultiheadAttention`` in
    ``layers`` through :func:`scaled_dot_product_attention`.

    ``MultiheadAttention`` calls its ``scaled_dot_product_attention``
    attribute (``F.scaled_dot_product_attention`` in torch 2, unless
    ``qk_scale`` is set); this replaces the torch function per instance,
    leaving parameters, keys and the class unchanged.
    """
    for layer in layers:
        for module in layer.modules():
            if isinstance(module, MultiheadAttention) and (
                    module.scaled_dot_product_attention is
                    F.scaled_dot_product_attention):
                module.scaled_dot_product_attention = \
                    scaled_dot_product_attention
