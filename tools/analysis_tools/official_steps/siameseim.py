"""SiameseIM's official model and loss (``models_sim.py`` of
OpenGVLab/Siamese-Image-Modeling), rebuilt from
``../shared/specs/siameseim.md`` with timm blocks."""
import copy
from functools import partial

import torch
from timm.layers import PatchEmbed
from timm.models.vision_transformer import Block
from torch import nn

from .common import explicit_attention, vit_arch


class TokenBatchNorm(nn.Module):
    """BatchNorm1d over tokens on the transposed ``(B, C, L)`` sequence,
    float32 (the official norm of the projector and predictor blocks)."""

    def __init__(self, dims: int, **factory):
        super().__init__()
        self.bn = nn.BatchNorm1d(dims, **factory)

    def forward(self, x):
        with torch.autocast(x.device.type, enabled=False):
            return self.bn(x.float().transpose(1, 2)).transpose(1, 2)


def sincos(positions: torch.Tensor, dims: int) -> torch.Tensor:
    """``[sin(p w_k), cos(p w_k)]``, ``w_k = 10000^(-k / (dims / 2))``:
    ``(...) -> (..., dims)`` float32."""
    half = dims // 2
    omega = 10000.**(-torch.arange(half, device=positions.device) / half)
    angles = positions.float()[..., None] * omega
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def absolute_pos_embed(grid: int, dims: int) -> torch.Tensor:
    """``(1, 1 + G*G, D)``: a zero cls row, then [row, column] sin-cos."""
    rows, cols = torch.meshgrid(torch.arange(grid), torch.arange(grid),
                                indexing='ij')
    table = torch.cat([sincos(rows.flatten(), dims // 2),
                       sincos(cols.flatten(), dims // 2)], dim=-1)
    return torch.cat([torch.zeros(1, dims), table])[None]


def relative_pos_embed(geometry: torch.Tensor, grid: int,
                       dims: int) -> torch.Tensor:
    """The view-2 queries' relative embedding ``(B, G*G, 2D)`` from the six
    geometry scalars (spec section 3)."""
    delta_i, delta_j, delta_h, delta_w, flip, flip_delta_j = \
        geometry.float().unbind(-1)
    rows, cols = torch.meshgrid(
        torch.arange(grid, device=geometry.device),
        torch.arange(grid, device=geometry.device), indexing='ij')
    rows = rows.flatten()[None] + 0.5
    cols = cols.flatten()[None] + 0.5
    gh = delta_h[:, None] * rows + grid * delta_i[:, None] - 0.5
    gw = torch.where(
        flip[:, None] > 0.5,
        -delta_w[:, None] * cols + grid * flip_delta_j[:, None] - 0.5,
        delta_w[:, None] * cols + grid * delta_j[:, None] - 0.5)
    scale_h = (10 * torch.log(delta_h))[:, None].expand_as(gh)
    scale_w = (10 * torch.log(delta_w))[:, None].expand_as(gh)
    return torch.cat([sincos(p, dims // 2)
                      for p in (gh, gw, scale_h, scale_w)], dim=-1)


class SiameseIMOfficial(nn.Module):
    """Online encoder, projector, predictor and the ``mm_*`` momentum
    target, with the official attribute names.

    ``loss(batch)`` takes ``view1``, ``view2`` ``(B, 3, H, W)``, ``mask``
    bool ``(B, G*G)`` (True = masked) and ``relative_geometry`` ``(B, 6)``.
    """
    ema_before_forward = True

    def __init__(self, img_size=224, patch_size=16, embed_dim=768, depth=12,
                 num_heads=12, projector_depth=2, predictor_depth=4,
                 decoder_num_heads=16, mlp_ratio=4.):
        super().__init__()
        self.grid = img_size // patch_size
        self.embed_dim = embed_dim
        self.patch_embed = PatchEmbed(img_size, patch_size, 3, embed_dim)
        self.patch_embed.requires_grad_(False)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(
            absolute_pos_embed(self.grid, embed_dim), requires_grad=False)
        encoder_block = partial(
            Block, embed_dim, num_heads, mlp_ratio, qkv_bias=True,
            norm_layer=partial(nn.LayerNorm, eps=1e-6))
        decoder_block = partial(
            Block, embed_dim, decoder_num_heads, mlp_ratio, qkv_bias=True,
            norm_layer=TokenBatchNorm)
        self.blocks = nn.ModuleList(encoder_block() for _ in range(depth))
        self.decoder_embed = nn.Linear(embed_dim, embed_dim)
        self.projector_decoder_blocks = nn.ModuleList(
            decoder_block() for _ in range(projector_depth))
        self.predictor_decoder_blocks = nn.ModuleList(
            decoder_block() for _ in range(predictor_depth))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.decoder_pos_embed = nn.Parameter(
            absolute_pos_embed(self.grid, embed_dim), requires_grad=False)
        self.decoder_pos_mlp = nn.Linear(2 * embed_dim, embed_dim)
        self.decoder_pred = nn.Linear(embed_dim, embed_dim)
        self.teacher_norm = nn.LayerNorm(embed_dim, eps=1e-5,
                                         elementwise_affine=False)
        nn.init.normal_(self.cls_token, std=.02)
        nn.init.normal_(self.mask_token, std=.02)
        self.apply(self._init_linear)
        for name in ('patch_embed', 'cls_token', 'blocks', 'decoder_embed',
                     'projector_decoder_blocks', 'mask_token'):
            copied = copy.deepcopy(getattr(self, name))
            copied.requires_grad_(False)
            setattr(self, 'mm_' + name, copied)
        explicit_attention([*self.blocks, *self.projector_decoder_blocks,
                            *self.predictor_decoder_blocks, *self.mm_blocks,
                            *self.mm_projector_decoder_blocks])

    @classmethod
    def from_config(cls, model_cfg) -> 'SiameseIMOfficial':
        """The sizes of an mmsiam SiameseIM model config."""
        from mmsiam.models.backbones import SiameseIMViT
        neck, head = model_cfg.neck, model_cfg.head
        return cls(**vit_arch(model_cfg.backbone, SiameseIMViT.arch_zoo),
                   projector_depth=neck.get('depth', 2),
                   predictor_depth=head.get('depth', 4),
                   decoder_num_heads=head.get('num_heads', 16))

    @staticmethod
    def _init_linear(module):
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)

    def ema_pairs(self):
        online = {name: param for name, param in self.named_parameters()
                  if not name.startswith('mm_')}
        return [(param, online[name[3:]])
                for name, param in self.named_parameters()
                if name.startswith('mm_')]

    def online_tokens(self, view1, mask):
        x = self.patch_embed(view1) + self.pos_embed[:, 1:]
        batch = x.shape[0]
        x = x[~mask].reshape(batch, -1, self.embed_dim)
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(batch, -1, -1)
        x = torch.cat([cls, x], dim=1)
        for block in self.blocks:
            x = block(x)
        x = self.decoder_embed(x)
        for block in self.projector_decoder_blocks:
            x = block(x)
        return x

    def predictions(self, online, mask, geometry):
        batch = online.shape[0]
        pos = self.decoder_pos_embed[:, 1:].expand(batch, -1, -1)
        visible = pos[~mask].reshape(batch, -1, self.embed_dim)
        relative = relative_pos_embed(geometry, self.grid, self.embed_dim)
        queries = self.mask_token + self.decoder_pos_mlp(relative)
        x = torch.cat([online[:, :1], online[:, 1:] + visible, queries], 1)
        for block in self.predictor_decoder_blocks:
            x = block(x)
        return self.decoder_pred(x[:, -self.grid**2:])

    @torch.no_grad()
    def target_tokens(self, view2):
        x = self.mm_patch_embed(view2) + self.pos_embed[:, 1:]
        cls = (self.mm_cls_token + self.pos_embed[:, :1]).expand(
            x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1)
        for block in self.mm_blocks:
            x = block(x)
        x = self.mm_decoder_embed(x)
        for block in self.mm_projector_decoder_blocks:
            x = block(x)
        return x[:, 1:]

    def loss(self, batch):
        mask = batch['mask']
        pred = self.predictions(
            self.online_tokens(batch['view1'], mask), mask,
            batch['relative_geometry'])
        target = self.target_tokens(batch['view2'])
        with torch.autocast(pred.device.type, enabled=False):
            target = self.teacher_norm(target.float())
            pred = pred.float().reshape(-1, self.embed_dim)
            target = target.reshape(-1, self.embed_dim)
            pos = (pred - target).pow(2).sum(-1).mean()
            cov = target.T @ target / target.shape[0]
            # The official N x N form of the correlation term.
            neg = torch.diagonal(pred @ cov @ pred.T).mean()
            return (pos + 0.02 * neg) / self.embed_dim
