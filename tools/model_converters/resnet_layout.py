"""The layout of an mmpretrain ResNet encoder, read from its weights, for the
exporters (``mmsiam_to_torchvision.py``, ``mmsiam_to_timm.py``).

mmpretrain's ResNet keys (``conv1``, ``bn1``, ``layer<s>.<b>.conv<k>``,
``bn<k>``, ``downsample.0/1``) are torchvision's and timm's, so the
exporters rename nothing; what they need is the block type, the blocks per
stage (which give the depth: 18, 34, 50, 101, 152) and the widths.
"""
import re
from typing import Dict, NamedTuple, Optional, Tuple

import torch

from key_mapping import block_depth

# (block type, blocks per stage) -> depth of the ResNet that torchvision and
# timm name ``resnet<depth>``.
RESNET_DEPTHS = {
    ('basic', (2, 2, 2, 2)): 18, ('basic', (3, 4, 6, 3)): 34,
    ('bottleneck', (3, 4, 6, 3)): 50, ('bottleneck', (3, 4, 23, 3)): 101,
    ('bottleneck', (3, 8, 36, 3)): 152,
}
# torchvision's and timm's widths: stem channels and planes per stage.
STANDARD_STEM = 64
STANDARD_CHANNELS = (64, 128, 256, 512)
EXPANSION = {'basic': 1, 'bottleneck': 4}


class ResNetLayout(NamedTuple):
    """What the weights of an mmpretrain ``ResNet`` say of its shape.

    Attributes:
        block (str): 'basic' (ResNet-18/34) or 'bottleneck' (50 and up).
        stages (tuple[int]): blocks per stage, e.g. ``(2, 2, 2, 2)``.
        stem_width (int): output channels of the 7x7 ``conv1``.
        channels (tuple[int]): planes per stage (a stage outputs
            ``planes x 4`` channels with bottleneck blocks), e.g.
            ``(16, 32, 64, 128)`` for the demos' width-16 ResNet-18.
    """
    block: str
    stages: Tuple[int, ...]
    stem_width: int
    channels: Tuple[int, ...]

    @property
    def depth(self) -> Optional[int]:
        """18, 34, 50, 101 or 152; None for other blocks per stage."""
        return RESNET_DEPTHS.get((self.block, self.stages))

    @property
    def standard_widths(self) -> bool:
        """Whether the widths are torchvision's (64 stem channels, planes
        64 to 512)."""
        return (self.stem_width == STANDARD_STEM
                and self.channels == STANDARD_CHANNELS)

    def describe(self) -> str:
        """E.g. 'basic blocks (2, 2, 2, 2) per stage, 16 stem channels,
        planes (16, 32, 64, 128)'."""
        return (f'{self.block} blocks {self.stages} per stage, '
                f'{self.stem_width} stem channels, planes {self.channels}')


def is_resnet(state_dict: Dict[str, torch.Tensor]) -> bool:
    """Whether encoder keys (``backbone.`` removed) are a ResNet's."""
    return 'layer1.0.conv1.weight' in state_dict


def resnet_layout(state_dict: Dict[str, torch.Tensor]) -> ResNetLayout:
    """The :class:`ResNetLayout` of mmpretrain ResNet encoder keys
    (``backbone.`` removed).

    Raises:
        ValueError: naming why when the encoder is no ResNet, or one that
            torchvision's and timm's ``resnet*`` cannot be (a deep stem, an
            average-pool downsample, other than 4 stages).
    """
    if not is_resnet(state_dict):
        raise ValueError('this is not a ResNet encoder (no layer1.0.conv1 '
                         'key); ViT encoders go to timm with '
                         'mmsiam_to_timm.py')
    if 'conv1.weight' not in state_dict:
        raise ValueError(
            'the encoder has a deep stem (stem.* keys, mmpretrain '
            'ResNetV1c / ResNetV1d) instead of the 7x7 conv1; the exporters '
            'take the plain ResNet only')
    avg_down = sorted(k for k in state_dict if '.downsample.2.' in k)
    if avg_down:
        raise ValueError(
            f'the encoder downsamples by average pooling ({avg_down[0]}: '
            'avg_down=True); the exporters take the plain ResNet only')
    stages = sorted({int(m.group(1)) for k in state_dict
                     for m in [re.match(r'layer(\d+)\.', k)] if m})
    if stages != [1, 2, 3, 4]:
        raise ValueError(f'the encoder has {len(stages)} stages '
                         f'(layer{stages[0]} to layer{stages[-1]}); '
                         'torchvision and timm ResNets have 4')
    block = 'bottleneck' if 'layer1.0.conv3.weight' in state_dict else 'basic'
    last = 'conv3' if block == 'bottleneck' else 'conv2'
    return ResNetLayout(
        block=block,
        stages=tuple(block_depth(state_dict, f'layer{s}')
                     for s in range(1, 5)),
        stem_width=state_dict['conv1.weight'].shape[0],
        channels=tuple(
            state_dict[f'layer{s}.0.{last}.weight'].shape[0] //
            EXPANSION[block] for s in range(1, 5)))
