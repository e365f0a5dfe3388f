from mmengine.model import ModuleList
from mmpretrain.models.backbones.vision_transformer import \
    TransformerEncoderLayer

from .attention_kernel import use_attention_kernel


def transformer_blocks(depth: int,
                       embed_dims: int,
                       num_heads: int,
                       mlp_ratio: float = 4.,
                       norm_cfg: dict = dict(type='LN', eps=1e-6),
                       drop_path_rate: float = 0.) -> ModuleList:
    """``depth`` pre-norm ViT blocks (mmpretrain's ``TransformerEncoderLayer``
    with qkv bias and a GELU MLP; attention through
    :func:`~mmsiam.models.layers.scaled_dot_product_attention`).

    Key names per block: ``ln1``, ``attn.qkv``, ``attn.proj``, ``ln2``,
    ``ffn.layers.0.0``, ``ffn.layers.1``. Shape ``(B, L, D) -> (B, L, D)``.
    ``norm_cfg`` types from mmsiam need the scope prefix
    (``'mmsiam.TokenBatchNorm'``), as mmpretrain builds the norms.
    """
    blocks = ModuleList([
        TransformerEncoderLayer(
            embed_dims=embed_dims,
            num_heads=num_heads,
            feedforward_channels=int(embed_dims * mlp_ratio),
            drop_path_rate=drop_path_rate,
            qkv_bias=True,
            norm_cfg=norm_cfg) for _ in range(depth)
    ])
    use_attention_kernel(blocks)
    return blocks
