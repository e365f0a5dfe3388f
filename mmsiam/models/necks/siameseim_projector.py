from torch import Tensor, nn

from mmsiam.registry import MODELS

from ..layers import TokenTransformer


@MODELS.register_module()
class SiameseIMProjector(TokenTransformer):
    """SiameseIM projector: a linear embedding and transformer blocks whose
    norms are BatchNorms over tokens.

    Args:
        in_channels (int): Encoder width. Defaults to 768.
        **kwargs: The blocks of :class:`TokenTransformer`: ``embed_dims``
            (projector width, 768), ``depth`` (2), ``num_heads`` (16),
            ``mlp_ratio`` (4), ``norm_cfg``.

    Shape:
        ``(B, L, in_channels) -> (B, L, embed_dims)``.
    """

    def __init__(self, in_channels: int = 768, **kwargs):
        super().__init__(**kwargs)
        self.decoder_embed = nn.Linear(in_channels, self.embed_dims)
        self.build_blocks()

    def forward(self, tokens: Tensor) -> Tensor:
        return self.run_blocks(self.decoder_embed(tokens))
