"""One attention function for every mmsiam transformer, computed by the
faster of two kernels, measured on the machine it runs on: torch's fused
``F.scaled_dot_product_attention`` or the explicit products. Which is
faster depends on the device, the precision and the shape (torch's CPU
flash kernel is 2.4x-3.7x slower than the explicit products in bf16 on an
AMX Xeon and faster in fp32: docs/performance.md, "Attention on CPU")."""
from typing import Iterable, Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.utils.attention import MultiheadAttention
from torch import Tensor, nn

from .kernel_choice import KernelChoice


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


ATTENTION_KERNELS = KernelChoice(
    'attention',
    dict(sdpa=F.scaled_dot_product_attention, explicit=explicit_attention),
    env_var='MMSIAM_ATTENTION_KERNEL', setting_key='attention_kernel')


def _signature(query: Tensor, key: Tensor, attn_mask: Optional[Tensor],
               needs_grad: bool) -> str:
    """What makes two attention calls time alike, readable in the log."""
    dtype = str(query.dtype).replace('torch.', '')
    if torch.is_autocast_enabled(query.device.type):
        dtype += ' (autocast)'
    mask = 'no mask' if attn_mask is None else (
        f'mask {tuple(attn_mask.shape)}')
    return (f'{query.device.type} {dtype} q {tuple(query.shape)} '
            f'k {tuple(key.shape)} {mask}'
            + (', forward + backward' if needs_grad else ', forward'))


def _one_call(name: str, query: Tensor, key: Tensor, value: Tensor,
              attn_mask: Optional[Tensor], scale: Optional[float],
              needs_grad: bool) -> None:
    """One call of kernel ``name`` on copies of the inputs, with its
    backward where the real call needs one; no dropout, so no random
    numbers are drawn (a measured run trains like a forced one)."""
    inputs = [t.detach().requires_grad_(needs_grad)
              for t in (query, key, value)]
    # Identity hooks over any that activation checkpointing has set: the
    # measurement's saved tensors are not the checkpointed block's, which
    # its recomputation (taking the kernel now chosen) must match.
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        with torch.enable_grad() if needs_grad else torch.no_grad():
            out = ATTENTION_KERNELS.candidates[name](
                *inputs, attn_mask=None if attn_mask is None else
                attn_mask.detach(), scale=scale)
        if needs_grad:
            out.backward(torch.ones_like(out))


def scaled_dot_product_attention(query: Tensor,
                                 key: Tensor,
                                 value: Tensor,
                                 attn_mask: Optional[Tensor] = None,
                                 dropout_p: float = 0.,
                                 scale: Optional[float] = None) -> Tensor:
    """Attention by the kernel measured fastest for these inputs
    (:data:`ATTENTION_KERNELS`): ``F.scaled_dot_product_attention`` (flash /
    memory-efficient kernels on CUDA, flash on CPU) or
    :func:`explicit_attention`. The config key ``attention_kernel`` or the
    environment variable ``MMSIAM_ATTENTION_KERNEL`` (``'sdpa'``,
    ``'explicit'``, ``'auto'``) can force one. Same arguments and shapes as
    :func:`explicit_attention`; a bool mask always takes torch's kernel.
    """
    name = ATTENTION_KERNELS.forced()
    if attn_mask is not None and attn_mask.dtype == torch.bool:
        name = 'sdpa'
    elif name is None:
        needs_grad = torch.is_grad_enabled() and any(
            t.requires_grad for t in (query, key, value))
        # While torch.compile traces an unmeasured call: the rule measured
        # on an AMX Xeon (explicit products for bf16 / fp16 on CPU).
        fallback = ('explicit' if query.device.type == 'cpu' and query.dtype
                    in (torch.bfloat16, torch.float16) else 'sdpa')
        name = ATTENTION_KERNELS.pick(
            _signature(query, key, attn_mask, needs_grad),
            lambda name: _one_call(name, query, key, value, attn_mask,
                                   scale, needs_grad),
            query.device, fallback)
    return ATTENTION_KERNELS.candidates[name](
        query, key, value, attn_mask=attn_mask, dropout_p=dropout_p,
        scale=scale)


def set_attention_kernel(cfg) -> str:
    """Apply a config's ``attention_kernel`` key (``'auto'``, the default:
    measure; ``'sdpa'`` or ``'explicit'``: force) to this process; returns
    the line a run logs about it."""
    ATTENTION_KERNELS.force(cfg.get('attention_kernel', 'auto'),
                            where=cfg.filename or 'config')
    return ATTENTION_KERNELS.describe()


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
