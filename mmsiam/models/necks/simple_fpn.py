from typing import List, Sequence, Tuple

import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmsiam.registry import MODELS


def rescale_module(factor: float, channels: int, norm_cfg: dict):
    """ViTDet's resampling of a ViT map by ``factor``.

    Returns:
        tuple[nn.Module, int]: the module and its output channels.
    """
    if factor == 4:
        half = channels // 2
        return nn.Sequential(
            nn.ConvTranspose2d(channels, half, 2, 2),
            build_norm_layer(norm_cfg, half)[1], nn.GELU(),
            nn.ConvTranspose2d(half, half // 2, 2, 2)), half // 2
    if factor == 2:
        return nn.ConvTranspose2d(channels, channels // 2, 2, 2), channels // 2
    if factor == 1:
        return nn.Identity(), channels
    if factor in (0.5, 0.25):
        kernel = int(1 / factor)
        return nn.MaxPool2d(kernel, kernel), channels
    raise ValueError(f'SimpleFPN scale factor {factor} is not one of '
                     '4, 2, 1, 0.5, 0.25')


@MODELS.register_module()
class SimpleFPN(BaseModule):
    """ViTDet's simple feature pyramid from one ViT feature map.

    Each of ``scale_factors`` resamples the map (4: two transposed convs
    with norm and GELU between them; 2: one transposed conv; 1: identity;
    0.5 / 0.25: max pooling); each scale then gets a 1x1 lateral and a 3x3
    output conv (no bias, normed). Extra levels (``num_outs`` beyond the
    scales) are stride-2 subsamplings of the last. For a stride-16 ViT the
    default factors give strides 4 / 8 / 16 / 32.

    Args:
        backbone_channel (int): Channels of the ViT map, e.g. 768.
        in_channels (Sequence[int]): Channels of the scales, e.g.
            ``[192, 384, 768, 768]`` (checked against the factors).
        out_channels (int): Pyramid channels, e.g. 256.
        num_outs (int): Levels, e.g. 5.
        scale_factors (Sequence[float]): Defaults to ``(4, 2, 1, 0.5)``;
            a stride-8 ViT uses ``(2, 1, 0.5, 0.25)``.
        norm_cfg (dict): Defaults to mmpretrain's channel LayerNorm of
            feature maps with ViTDet's eps, ``dict(type='mmpretrain.LN2d',
            eps=1e-6)``.

    Shape:
        ``((B, C, H, W),) -> num_outs maps (B, out_channels, ., .)``.
    """

    def __init__(self,
                 backbone_channel: int,
                 in_channels: Sequence[int],
                 out_channels: int,
                 num_outs: int,
                 scale_factors: Sequence[float] = (4, 2, 1, 0.5),
                 norm_cfg: dict = dict(type='mmpretrain.LN2d', eps=1e-6),
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        rescales = [
            rescale_module(f, backbone_channel, norm_cfg)
            for f in scale_factors
        ]
        channels = [c for _, c in rescales]
        if list(in_channels) != channels:
            raise ValueError(f'SimpleFPN: in_channels={list(in_channels)} '
                             f'but scale_factors={list(scale_factors)} of a '
                             f'{backbone_channel}-channel map give {channels}')
        if num_outs < len(scale_factors):
            raise ValueError(f'num_outs={num_outs} is fewer than the '
                             f'{len(scale_factors)} scales')
        self.rescales = nn.ModuleList(m for m, _ in rescales)
        self.lateral_convs = nn.ModuleList([
            ConvModule(c, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None)
            for c in channels
        ])
        self.fpn_convs = nn.ModuleList([
            ConvModule(out_channels, out_channels, 3, padding=1,
                       norm_cfg=norm_cfg, act_cfg=None) for _ in channels
        ])
        self.num_outs = num_outs

    def forward(self, inputs: Tuple[Tensor]) -> Tuple[Tensor]:
        x = inputs[0] if isinstance(inputs, (tuple, list)) else inputs
        outs: List[Tensor] = [
            fpn(lateral(rescale(x))) for rescale, lateral, fpn in zip(
                self.rescales, self.lateral_convs, self.fpn_convs)
        ]
        while len(outs) < self.num_outs:
            outs.append(F.max_pool2d(outs[-1], 1, stride=2))
        return tuple(outs)
