"""Windowed multi-head attention with decomposed relative positions
(ViTDet / SAM style), through
:func:`~mmsiam.models.layers.scaled_dot_product_attention`."""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention_kernel import scaled_dot_product_attention


def window_partition(x: Tensor, window: int) -> Tuple[Tensor, Tuple]:
    """``(B, H, W, C) -> (B * nW, window, window, C)``, zero-padding H and W
    to multiples of ``window``; also returns the padded ``(Hp, Wp)``."""
    b, h, w, c = x.shape
    pad_h, pad_w = (-h) % window, (-w) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window, window, wp // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c), (hp,
                                                                      wp)


def window_unpartition(windows: Tensor, window: int, padded: Tuple[int, int],
                       size: Tuple[int, int]) -> Tensor:
    """Inverse of :func:`window_partition`: ``-> (B, H, W, C)``."""
    hp, wp = padded
    b = windows.shape[0] // (hp * wp // window // window)
    x = windows.view(b, hp // window, wp // window, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    return x[:, :size[0], :size[1]].contiguous()


def relative_table(size: int, table: Tensor) -> Tensor:
    """``(size, size, C)`` embeddings of offsets ``i - j`` from a
    ``(2L - 1, C)`` table, linearly resized if ``L != size``."""
    length = 2 * size - 1
    if table.shape[0] != length:
        table = F.interpolate(
            table.T[None], size=length, mode='linear').squeeze(0).T
    coords = torch.arange(size, device=table.device)
    return table[coords[:, None] - coords[None, :] + size - 1]


class RelPosAttention(nn.Module):
    """Multi-head self-attention on a ``(B, H, W, C)`` grid with optional
    decomposed relative position bias ``q . R_h[i-i'] + q . R_w[j-j']``.

    Parameter names ``qkv``, ``proj`` match mmpretrain's attention, so ViT
    checkpoints load; ``rel_pos_h`` / ``rel_pos_w`` (``(2S - 1, C/heads)``,
    zero init) are new.
    """

    def __init__(self, embed_dims: int, num_heads: int, grid_size: int,
                 use_rel_pos: bool = True, qkv_bias: bool = True):
        super().__init__()
        self.num_heads = num_heads
        self.head_dims = embed_dims // num_heads
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            self.rel_pos_h = nn.Parameter(
                torch.zeros(2 * grid_size - 1, self.head_dims))
            self.rel_pos_w = nn.Parameter(
                torch.zeros(2 * grid_size - 1, self.head_dims))

    def forward(self, x: Tensor) -> Tensor:
        b, h, w, c = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.num_heads,
                                  self.head_dims).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B, heads, HW, d)
        bias = None
        if self.use_rel_pos:
            grid_q = q.reshape(b, self.num_heads, h, w, self.head_dims)
            rel_h = torch.einsum('bnhwd,hkd->bnhwk', grid_q,
                                 relative_table(h, self.rel_pos_h))
            rel_w = torch.einsum('bnhwd,wkd->bnhwk', grid_q,
                                 relative_table(w, self.rel_pos_w))
            bias = (rel_h[..., :, None] + rel_w[..., None, :]).reshape(
                b, self.num_heads, h * w, h * w).to(q.dtype)
        out = scaled_dot_product_attention(q, k, v, attn_mask=bias)
        out = out.transpose(1, 2).reshape(b, h, w, c)
        return self.proj(out)
