from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.drop import DropPath
from mmcv.cnn.bricks.transformer import FFN, PatchEmbed
from mmengine.model import BaseModule, ModuleList
from mmpretrain.models.backbones import VisionTransformer
from torch import Tensor, nn

from mmsiam.registry import MODELS

from ..layers import RelPosAttention, window_partition, window_unpartition
from ..utils import StrictPretrainedMixin


class ViTDetBlock(BaseModule):
    """Pre-norm ViT block on a ``(B, H, W, C)`` grid with window (or global)
    attention and decomposed relative positions. Key names follow
    mmpretrain: ``ln1``, ``attn.qkv``, ``attn.proj``, ``ln2``,
    ``ffn.layers.0.0``, ``ffn.layers.1``."""

    def __init__(self, embed_dims: int, num_heads: int,
                 feedforward_channels: int, grid_size: int, window_size: int,
                 use_rel_pos: bool, drop_path_rate: float):
        super().__init__()
        self.window_size = window_size
        self.ln1 = nn.LayerNorm(embed_dims, eps=1e-6)
        self.attn = RelPosAttention(
            embed_dims, num_heads, window_size or grid_size, use_rel_pos)
        self.ln2 = nn.LayerNorm(embed_dims, eps=1e-6)
        self.ffn = FFN(
            embed_dims=embed_dims,
            feedforward_channels=feedforward_channels,
            num_fcs=2,
            ffn_drop=0.,
            dropout_layer=None,
            act_cfg=dict(type='GELU'),
            add_identity=False)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate else \
            nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x
        x = self.ln1(x)
        if self.window_size:
            size = x.shape[1:3]
            x, padded = window_partition(x, self.window_size)
            x = window_unpartition(self.attn(x), self.window_size, padded,
                                   size)
        else:
            x = self.attn(x)
        x = shortcut + self.drop_path(x)
        return x + self.drop_path(self.ffn(self.ln2(x)))


@MODELS.register_module()
class ViTDet(StrictPretrainedMixin, BaseModule):
    """Plain ViT backbone for dense prediction (ViTDet, Li et al. 2022).

    Window attention in ``window_block_indexes`` (global elsewhere),
    decomposed relative positions, and the absolute position embedding of
    the pretraining resolution (cls row kept for loading, unused) resized
    bicubically to the input's patch grid. Returns the last feature map.

    Pretrained weights are ``backbone.*`` checkpoints in mmpretrain names
    (``tools/model_converters/extract_backbone.py``), loaded with
    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix='backbone.')``.
    Unlike mmengine's non-strict loader this raises if an encoder weight is
    missing or the file has keys the model does not know
    (:class:`StrictPretrainedMixin`); only the new ``rel_pos_*`` tables may
    be absent, and the pretraining-only keys (cls token, final norms) are
    ignored.

    Args:
        arch (str | dict): 'b' / 'l' / ... or a dict with ``embed_dims``,
            ``num_layers``, ``num_heads``, ``feedforward_channels``.
        img_size (int): Training input size (sets the global-attention
            rel-pos table size). Defaults to 1024.
        patch_size (int): Defaults to 16.
        pretrain_img_size (int): Resolution of the pretrained position
            embedding. Defaults to 224.
        drop_path_rate (float): Stochastic depth, linear over blocks.
        window_size (int): Window side in patches. Defaults to 14.
        window_block_indexes (Sequence[int]): Blocks with window attention.
        use_rel_pos (bool): Decomposed relative positions. Defaults to True.

    Shape:
        ``(B, 3, H, W) -> ((B, C, H/16, W/16),)``.
    """
    allow_missing_keys = (r'layers\.\d+\.attn\.rel_pos_[hw]', )

    def __init__(self,
                 arch='b',
                 img_size: int = 1024,
                 patch_size: int = 16,
                 pretrain_img_size: int = 224,
                 drop_path_rate: float = 0.1,
                 window_size: int = 14,
                 window_block_indexes: Sequence[int] = (0, 1, 3, 4, 6, 7, 9,
                                                         10),
                 use_rel_pos: bool = True,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            arch = VisionTransformer.arch_zoo[arch.lower()]
        dims, depth = arch['embed_dims'], arch['num_layers']
        self.embed_dims = dims
        self.patch_embed = PatchEmbed(
            in_channels=3, embed_dims=dims, conv_type='Conv2d',
            kernel_size=patch_size, stride=patch_size, bias=True)
        pretrain_grid = pretrain_img_size // patch_size
        self.pos_embed = nn.Parameter(
            torch.zeros(1, 1 + pretrain_grid**2, dims))
        grid = img_size // patch_size
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.layers = ModuleList([
            ViTDetBlock(dims, arch['num_heads'], arch['feedforward_channels'],
                        grid,
                        window_size if i in window_block_indexes else 0,
                        use_rel_pos, rates[i]) for i in range(depth)
        ])
        self.num_layers = depth

    def init_weights(self) -> None:
        # Without a checkpoint; StrictPretrainedMixin loads one after this.
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        super().init_weights()

    def resized_pos_embed(self, grid: Tuple[int, int]) -> Tensor:
        """``(1, Hp, Wp, C)`` position embedding for a patch grid."""
        pos = self.pos_embed[:, 1:]
        side = int(pos.shape[1]**0.5)
        pos = pos.reshape(1, side, side, -1).permute(0, 3, 1, 2)
        if (side, side) != tuple(grid):
            pos = F.interpolate(pos, size=grid, mode='bicubic',
                                align_corners=False)
        return pos.permute(0, 2, 3, 1)

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        x, grid = self.patch_embed(x)
        x = x.reshape(x.shape[0], *grid, -1) + self.resized_pos_embed(grid)
        for layer in self.layers:
            x = layer(x)
        return (x.permute(0, 3, 1, 2).contiguous(), )

    # Layer ids for layer-wise lr decay, as for mmpretrain's ViT (same
    # parameter names): embeddings 0, block i -> i + 1, the rest last.
    get_layer_depth = VisionTransformer.get_layer_depth
