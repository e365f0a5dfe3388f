"""BEiT attention with its relative position bias through
:func:`~mmsiam.models.layers.scaled_dot_product_attention`."""
from typing import Iterable, Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.utils.attention import BEiTAttention
from torch import Tensor, nn

from .attention_kernel import scaled_dot_product_attention


class BEiTSDPAttention(BEiTAttention):
    """mmpretrain's ``BEiTAttention`` (same parameters, same keys: ``qkv``,
    ``q_bias``, ``v_bias``, ``proj``, the optional per-layer
    ``relative_position_bias_table``) whose attention is one
    :func:`~mmsiam.models.layers.scaled_dot_product_attention` call with the
    relative position bias as an additive float mask, instead of
    ``q @ k^T`` + bias, softmax, ``@ v``. On CUDA the fused
    memory-efficient kernel of ``F.scaled_dot_product_attention`` takes the
    biased attention (and computes the bias gradient); on CPU torch uses its
    math path in fp32 when the bias needs a gradient, and bf16 / fp16 take
    the explicit products, which are faster there.

    Shapes: ``forward(x, rel_pos_bias)`` with tokens ``(B, N, C)`` and an
    optional shared bias ``(num_heads, N, N)`` returns ``(B, N, C)``.
    """

    def forward(self, x: Tensor, rel_pos_bias: Optional[Tensor] = None):
        batch, tokens, channels = x.shape
        if self.bias == 'qv_bias':
            qkv_bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias),
                                  self.v_bias))
            qkv = F.linear(x, self.qkv.weight, qkv_bias)
        else:
            qkv = self.qkv(x)
        q, k, v = qkv.reshape(batch, tokens, 3, self.num_heads,
                              -1).permute(2, 0, 3, 1, 4)
        bias = rel_pos_bias
        if self.relative_position_bias_table is not None:
            table = self.relative_position_bias_table[
                self.relative_position_index.view(-1)].view(
                    tokens, tokens, -1).permute(2, 0, 1)
            bias = table if bias is None else bias + table
        if bias is not None:
            # SDPA takes the mask in the dtype of q (bf16 / fp16 under
            # autocast, as mmpretrain's explicit sum would be).
            bias = bias.to(q.dtype).unsqueeze(0)
        out = scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=bias,
            dropout_p=self.attn_drop.p if self.training else 0.,
            scale=self.scale)
        out = out.transpose(1, 2).reshape(batch, tokens, channels)
        return self.proj_drop(self.proj(out))


def use_sdpa_attention(layers: Iterable[nn.Module]) -> None:
    """Make the ``attn`` of every mmpretrain BEiT layer a
    :class:`BEiTSDPAttention`: the same module and state, only its forward
    changes (``BEiTTransformerEncoderLayer`` builds ``BEiTAttention``
    itself, with no option to pass another class)."""
    for layer in layers:
        if type(layer.attn) is not BEiTAttention:
            raise TypeError(f'expected a BEiTAttention, got '
                            f'{type(layer.attn).__name__}')
        layer.attn.__class__ = BEiTSDPAttention
