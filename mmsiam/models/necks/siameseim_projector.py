from typing import Optional

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmsiam.registry import MODELS

from ..layers import transformer_blocks
from ..utils import is_pretrained_init, xavier_linear_unit_norm


@MODELS.register_module()
class SiameseIMProjector(BaseModule):
    """SiameseIM projector: a linear embedding and transformer blocks whose
    norms are BatchNorms over tokens.

    Args:
        in_channels (int): Encoder width. Defaults to 768.
        embed_dims (int): Projector width. Defaults to 768.
        depth (int): Blocks. Defaults to 2.
        num_heads (int): Defaults to 16.
        mlp_ratio (float): Defaults to 4.
        norm_cfg (dict): Token norm of the blocks.

    Shape:
        ``(B, L, in_channels) -> (B, L, embed_dims)``.
    """

    def __init__(self,
                 in_channels: int = 768,
                 embed_dims: int = 768,
                 depth: int = 2,
                 num_heads: int = 16,
                 mlp_ratio: float = 4.,
                 norm_cfg: dict = dict(type='mmsiam.TokenBatchNorm'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        self.decoder_embed = nn.Linear(in_channels, embed_dims)
        self.blocks = transformer_blocks(depth, embed_dims, num_heads,
                                         mlp_ratio, norm_cfg)

    def init_weights(self) -> None:
        super().init_weights()
        if not is_pretrained_init(self.init_cfg):
            self.apply(xavier_linear_unit_norm)

    def forward(self, tokens: Tensor) -> Tensor:
        tokens = self.decoder_embed(tokens)
        for block in self.blocks:
            tokens = block(tokens)
        return tokens
