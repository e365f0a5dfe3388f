"""ConMIM's official model and loss (``modeling_pretrain.py`` and
``engine_for_pretraining.py`` of TencentARC/ConMIM, a BEiT v1 fork),
rebuilt from ``../shared/specs/conmim.md`` with timm's BEiT blocks."""
import copy
from functools import partial

import torch
import torch.nn.functional as F
from timm.layers import PatchEmbed
from timm.models.beit import Block
from torch import nn

from .common import explicit_attention, pair_parameters, vit_arch


class RelativePositionBias(nn.Module):
    """BEiT's shared bias: a ``((2G-1)^2 + 3, heads)`` table indexed by the
    ``(1 + G*G, 1 + G*G)`` relative offsets (3 extra rows: cls to token,
    token to cls, cls to cls). ``forward() -> (heads, N, N)``."""

    def __init__(self, grid: int, num_heads: int):
        super().__init__()
        rows = (2 * grid - 1)**2
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros(rows + 3, num_heads))
        coords = torch.stack(torch.meshgrid(
            torch.arange(grid), torch.arange(grid), indexing='ij')).flatten(1)
        offsets = (coords[:, :, None] - coords[:, None, :]) + grid - 1
        index = torch.zeros(grid * grid + 1, grid * grid + 1,
                            dtype=torch.long)
        index[1:, 1:] = offsets[0] * (2 * grid - 1) + offsets[1]
        index[0, :] = rows
        index[:, 0] = rows + 1
        index[0, 0] = rows + 2
        self.register_buffer('relative_position_index', index)

    def forward(self):
        size = self.relative_position_index.shape[0]
        bias = self.relative_position_bias_table[
            self.relative_position_index.view(-1)].view(size, size, -1)
        return bias.permute(2, 0, 1).contiguous()


class BEiTForMaskedImageModeling(nn.Module):
    """The student (or teacher) network with the official key names:
    ``cls_token``, ``mask_token``, ``patch_embed``, ``rel_pos_bias``,
    ``blocks``, ``norm``, the unused ``lm_head`` and the ``projectors`` MLP.

    ``forward(x, mask)``: images ``(B, 3, H, W)``, bool ``(B, G*G)`` ->
    projected patch tokens ``(B, G*G, 256)``.
    """

    def __init__(self, img_size=224, patch_size=16, embed_dim=768, depth=12,
                 num_heads=12, mlp_ratio=4., init_values=0.1,
                 projector_dims=(4096, 4096, 256), vocab_size=8192):
        super().__init__()
        self.patch_embed = PatchEmbed(img_size, patch_size, 3, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.rel_pos_bias = RelativePositionBias(img_size // patch_size,
                                                 num_heads)
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, qkv_bias=True, mlp_ratio=mlp_ratio,
                  init_values=init_values,
                  norm_layer=partial(nn.LayerNorm, eps=1e-6))
            for _ in range(depth))
        explicit_attention(self.blocks)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.lm_head = nn.Linear(embed_dim, vocab_size)
        hidden, hidden2, out = projector_dims
        self.projectors = nn.Sequential(
            nn.Linear(embed_dim, hidden, bias=False), nn.BatchNorm1d(hidden),
            nn.ReLU(inplace=True), nn.Linear(hidden, hidden2, bias=False),
            nn.BatchNorm1d(hidden2), nn.ReLU(inplace=True),
            nn.Linear(hidden2, out, bias=False),
            nn.BatchNorm1d(out, affine=False))
        for param in (self.cls_token, self.mask_token):
            nn.init.trunc_normal_(param, std=.02, a=-.02, b=.02)
        self.apply(self._init_linear)

    @staticmethod
    def _init_linear(module):
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=.02, a=-.02, b=.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, x, mask=None):
        x = self.patch_embed(x)
        batch, tokens, dims = x.shape
        if mask is not None:
            weight = mask.unsqueeze(-1).type_as(x)
            x = x * (1 - weight) + self.mask_token.expand(
                batch, tokens, -1) * weight
        x = torch.cat([self.cls_token.expand(batch, -1, -1), x], dim=1)
        bias = self.rel_pos_bias()
        for block in self.blocks:
            x = block(x, shared_rel_pos_bias=bias)
        x = self.norm(x)
        x = self.projectors(x.reshape(-1, dims))
        return x.reshape(batch, tokens + 1, -1)[:, 1:]


class ConMIMOfficial(nn.Module):
    """``student`` and its EMA copy ``teacher`` (updated after each
    optimizer step, in train mode, no gradients).

    ``loss(batch)`` takes ``student_view``, ``teacher_view``
    ``(B, 3, H, W)`` and ``mask`` bool ``(B, G*G)`` (True = masked).
    """
    ema_before_forward = False

    def __init__(self, temperature=0.1, **kwargs):
        super().__init__()
        self.student = BEiTForMaskedImageModeling(**kwargs)
        self.teacher = copy.deepcopy(self.student)
        self.teacher.requires_grad_(False)
        self.temperature = temperature

    @classmethod
    def from_config(cls, model_cfg) -> 'ConMIMOfficial':
        """The sizes of an mmsiam ConMIM model config."""
        from mmsiam.models.backbones import ConMIMViT
        backbone, neck = model_cfg.backbone, model_cfg.neck
        hidden = neck.get('hid_channels', 4096)
        return cls(
            **vit_arch(backbone, ConMIMViT.arch_zoo),
            init_values=backbone.get('layer_scale_init_value', 0.1),
            projector_dims=(hidden, hidden, neck.get('out_channels', 256)),
            temperature=model_cfg.head.loss.get('temperature', 0.1))

    def ema_pairs(self):
        return pair_parameters(self.teacher, self.student)

    def loss(self, batch):
        mask = batch['mask']
        student = self.student(batch['student_view'], mask)
        with torch.no_grad():
            teacher = self.teacher(batch['teacher_view'])
        query = F.normalize(student.float(), dim=-1)
        key = F.normalize(teacher.float(), dim=-1)
        logits = torch.bmm(query, key.transpose(1, 2)) / self.temperature
        labels = torch.arange(logits.shape[1], device=logits.device)
        labels = labels.expand(logits.shape[0], -1)
        return F.cross_entropy(logits[mask].float(), labels[mask])
