from typing import Optional

import torch
from mmpretrain.models.backbones import VisionTransformer
from torch import Tensor, nn

from mmsiam.registry import MODELS

from ..layers import use_attention_kernel
from ..utils import (FreshInitMixin, checkpoint_layers,
                     interpolate_pos_embed_dino)


@MODELS.register_module()
class DINOViT(FreshInitMixin, VisionTransformer):
    """A DINO-style ViT encoder for Siamese methods (MULAN's ViT).

    mmpretrain's ``VisionTransformer`` (its key names; e.g. ``'deit-small'``
    for ViT-S/16, ``'b'`` for ViT-B/16) with a learnable position embedding
    and cls token, qkv bias, pre-norm LN (eps 1e-6), attention through
    :func:`~mmsiam.models.layers.scaled_dot_product_attention` and a final
    LN; the feature is the cls token after the final LN. Inputs of another
    size (96-pixel local crops) get :func:`interpolate_pos_embed_dino`.

    Init: cls token and position embedding ``trunc_normal(0.02)``, Linear
    ``trunc_normal(0.02)`` with bias 0, LN (1, 0), the patch convolution
    xavier-uniform as a matrix (``+-sqrt(6 / (3 * p^2 + D))``) with bias 0.

    Args:
        arch (str | dict): ViT size. Defaults to ``'deit-small'``.
        img_size (int): Defaults to 224.
        patch_size (int): Defaults to 16.
        with_cp (bool): Activation checkpointing of the blocks (recomputed in
            the backward, :func:`~mmsiam.models.utils.checkpoint_layers`).
            Defaults to False.
        **kwargs: Other ``VisionTransformer`` arguments.

    Shape: ``(B, 3, H, W) -> ((B, D),)``.
    """

    def __init__(self,
                 arch='deit-small',
                 img_size: int = 224,
                 patch_size: int = 16,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        kwargs.setdefault('norm_cfg', dict(type='LN', eps=1e-6))
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            out_type='cls_token',
            final_norm=True,
            init_cfg=init_cfg,
            **kwargs)
        use_attention_kernel(self.layers)
        if with_cp:
            checkpoint_layers(self.layers)

    def init_fresh_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        conv = self.patch_embed.projection
        nn.init.xavier_uniform_(conv.weight.view(conv.weight.shape[0], -1))
        nn.init.zeros_(conv.bias)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)

    def forward(self, x: Tensor):
        tokens, (h, w) = self.patch_embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        tokens = torch.cat([cls, tokens], dim=1) + interpolate_pos_embed_dino(
            self.pos_embed, self.patch_resolution[0], (h, w))
        tokens = self.pre_norm(self.drop_after_pos(tokens))
        for layer in self.layers:
            tokens = layer(tokens)
        return (self.ln1(tokens)[:, 0], )
