"""Layers: the building blocks the models are made of (registered norm
layers, transformer blocks, the measured attention kernel, windowed
attention)."""
from .any_device_sync_batch_norm import AnyDeviceSyncBatchNorm
from .attention_kernel import (ATTENTION_KERNELS, explicit_attention,
                               scaled_dot_product_attention,
                               set_attention_kernel, use_attention_kernel)
from .beit_sdpa_attention import BEiTSDPAttention, use_sdpa_attention
from .token_batch_norm import TokenBatchNorm
from .token_transformer import TokenTransformer
from .transformer_blocks import transformer_blocks
from .window_attention import (RelPosAttention, window_partition,
                               window_unpartition)

__all__ = [
    'AnyDeviceSyncBatchNorm',
    'ATTENTION_KERNELS', 'explicit_attention', 'scaled_dot_product_attention',
    'set_attention_kernel', 'use_attention_kernel',
    'BEiTSDPAttention', 'use_sdpa_attention',
    'TokenBatchNorm', 'TokenTransformer', 'transformer_blocks',
    'RelPosAttention', 'window_partition', 'window_unpartition'
]
