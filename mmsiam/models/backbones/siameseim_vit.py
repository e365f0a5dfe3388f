from typing import Optional, Tuple

import torch
from mmpretrain.models.backbones import VisionTransformer
from torch import Tensor, nn

from mmsiam.registry import MODELS

from ..layers import use_attention_kernel
from ..utils import (FreshInitMixin, check_mask_grid, checkpoint_layers,
                     sincos_2d, xavier_linear_unit_norm)


@MODELS.register_module()
class SiameseIMViT(FreshInitMixin, VisionTransformer):
    """The SiameseIM encoder: a ViT that encodes only the visible patches.

    mmpretrain's ``VisionTransformer`` (its key names, so that
    ``backbone.*`` loads into any mmpretrain / mmsiam ViT) with

    * a fixed 2-D sin-cos position embedding (cls row zero);
    * a frozen patch embedding;
    * masked patches removed before the blocks (order kept row-major);
    * no final norm;
    * attention through
      :func:`~mmsiam.models.layers.scaled_dot_product_attention`;
    * initialisation: xavier-uniform for every Linear (qkv as one matrix)
      and for the patch projection viewed as a matrix, zero biases,
      LayerNorm (1, 0), cls token ``N(0, 0.02)``.

    Args:
        arch (str | dict): ViT size, 'b' by default.
        img_size (int): Input size. Defaults to 224.
        patch_size (int): Defaults to 16.
        with_cp (bool): Activation checkpointing of the blocks (recomputed in
            the backward, :func:`~mmsiam.models.utils.checkpoint_layers`).
            Defaults to False.
        **kwargs: Other ``VisionTransformer`` arguments.
    """

    def __init__(self,
                 arch='b',
                 img_size: int = 224,
                 patch_size: int = 16,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        kwargs.setdefault('final_norm', False)
        kwargs.setdefault('out_type', 'raw')
        super().__init__(
            arch=arch,
            img_size=img_size,
            patch_size=patch_size,
            init_cfg=init_cfg,
            **kwargs)
        self.pos_embed.requires_grad = False
        for param in self.patch_embed.parameters():
            param.requires_grad = False
        self.patch_size = patch_size
        self.grid_size = self.patch_resolution[0]
        use_attention_kernel(self.layers)
        if with_cp:
            checkpoint_layers(self.layers)

    def init_fresh_weights(self) -> None:
        self.pos_embed.data.copy_(
            sincos_2d(self.grid_size, self.embed_dims, cls_token=True))
        weight = self.patch_embed.projection.weight.data
        nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        nn.init.normal_(self.cls_token, std=0.02)
        self.apply(xavier_linear_unit_norm)

    def forward(self, x: Tensor,
                mask: Optional[Tensor] = None) -> Tuple[Tensor]:
        """Encode the visible patches of ``x``.

        Args:
            x (Tensor): Images ``(B, 3, H, W)``.
            mask (Tensor, optional): Bool ``(B, G, G)``, True = masked; every
                image must mask the same number of patches. None encodes all.

        Returns:
            tuple[Tensor]: One stage, tokens ``(B, 1 + N_visible, D)``, cls
            token first (the OpenMMLab backbone convention).
        """
        tokens = self.patch_embed(x)[0] + self.pos_embed[:, 1:]
        if mask is not None:
            check_mask_grid(mask, self.patch_resolution, type(self).__name__)
            visible = ~mask.flatten(1)
            counts = visible.sum(1)
            if not bool((counts == counts[0]).all()):
                raise ValueError('every image of a batch must mask the same '
                                 f'number of patches, got {counts.tolist()}')
            tokens = tokens[visible].reshape(x.shape[0], -1, self.embed_dims)
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(
            x.shape[0], -1, -1)
        tokens = self.drop_after_pos(torch.cat([cls, tokens], dim=1))
        for layer in self.layers:
            tokens = layer(tokens)
        return (tokens, )

