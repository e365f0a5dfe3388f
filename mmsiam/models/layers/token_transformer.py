from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor

from ..utils import FreshInitMixin, xavier_linear_unit_norm
from .transformer_blocks import transformer_blocks


class TokenTransformer(FreshInitMixin, BaseModule):
    """What SiameseIM's projector and predictor share: ``depth`` pre-norm
    ViT blocks of width ``embed_dims`` whose norms are BatchNorms over
    tokens, and the MAE init (xavier-uniform Linear, LayerNorm (1, 0)).

    A subclass creates its own layers and calls :meth:`build_blocks` where
    ``blocks`` stands in its layer order (the order of the init's random
    draws, so that it matches the official code).

    Args:
        embed_dims (int): Width. Defaults to 768.
        depth (int): Blocks. Defaults to 2.
        num_heads (int): Defaults to 16.
        mlp_ratio (float): Defaults to 4.
        norm_cfg (dict): Token norm of the blocks. Defaults to
            ``mmsiam.TokenBatchNorm``.
    """

    def __init__(self,
                 embed_dims: int = 768,
                 depth: int = 2,
                 num_heads: int = 16,
                 mlp_ratio: float = 4.,
                 norm_cfg: dict = dict(type='mmsiam.TokenBatchNorm'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self._block_cfg = dict(depth=depth, embed_dims=embed_dims,
                               num_heads=num_heads, mlp_ratio=mlp_ratio,
                               norm_cfg=norm_cfg)

    def build_blocks(self) -> None:
        """Create ``self.blocks``."""
        self.blocks = transformer_blocks(**self._block_cfg)

    def run_blocks(self, tokens: Tensor) -> Tensor:
        """``(B, L, embed_dims) -> (B, L, embed_dims)`` through the blocks."""
        for block in self.blocks:
            tokens = block(tokens)
        return tokens

    def init_fresh_weights(self) -> None:
        self.apply(xavier_linear_unit_norm)
