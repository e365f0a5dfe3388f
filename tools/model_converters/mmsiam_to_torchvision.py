#!/usr/bin/env python
"""Export the ResNet encoder of an mmsiam checkpoint (MULAN) as a
torchvision state dict.

mmpretrain's ResNet keys (``conv1``, ``bn1``, ``layer<s>.<b>.conv<k>``,
``bn<k>``, ``downsample.0/1``) are torchvision's. The tool finds the depth
from the blocks per stage (18, 34, 50, 101, 152), checks that the encoder
has torchvision's widths (64 stem channels), and loads the export into
``torchvision.models.resnet<depth>()`` with its classifier removed
(``model.fc = torch.nn.Identity()``) with ``strict=True`` before writing
it: a key that does not match is an error, never a warning. Then
``model(x)`` is the pooled feature ``(B, 2048)`` for ResNet-50, the global
average of the mmsiam encoder's last stage ``backbone(x)[-1]``.

Output: ``{'state_dict': {torchvision keys}, 'meta': {torchvision_model,
source, branch, method}}``.

Example::

    python tools/model_converters/mmsiam_to_torchvision.py \\
        work_dirs/mulan-byol_resnet50/epoch_200.pth mulan_r50_torchvision.pth
"""
import sys

from checkpoint_io import load_strictly, save_checkpoint
from extract_backbone import branch_export_parser, load_backbone
from key_mapping import block_depth

from mmsiam.runtime import setup_runtime

# (block type, blocks per stage) -> torchvision depth.
TORCHVISION_DEPTHS = {
    ('basic', (2, 2, 2, 2)): 18, ('basic', (3, 4, 6, 3)): 34,
    ('bottleneck', (3, 4, 6, 3)): 50, ('bottleneck', (3, 4, 23, 3)): 101,
    ('bottleneck', (3, 8, 36, 3)): 152,
}


def parse_args(argv=None):
    return branch_export_parser(
        'Export an mmsiam ResNet encoder as a torchvision state dict',
        'torchvision state dict to write').parse_args(argv)


def torchvision_depth(state_dict: dict) -> int:
    """The torchvision ResNet depth of an mmpretrain ResNet state dict; a
    ValueError says why when there is none."""
    if 'conv1.weight' not in state_dict or 'layer1.0.conv1.weight' not in (
            state_dict):
        raise ValueError('this is not a ResNet encoder (no conv1 / layer1); '
                         'ViT encoders go to timm with mmsiam_to_timm.py')
    if 'stem.0.conv.weight' in state_dict:
        raise ValueError('a deep-stem ResNet (ResNetV1c/d) has no torchvision '
                         'counterpart')
    stem = state_dict['conv1.weight'].shape[0]
    if stem != 64:
        raise ValueError(f'the encoder has {stem} stem channels; torchvision '
                         'ResNets have 64')
    block = 'bottleneck' if 'layer1.0.conv3.weight' in state_dict else 'basic'
    stages = tuple(block_depth(state_dict, f'layer{s}') for s in range(1, 5))
    depth = TORCHVISION_DEPTHS.get((block, stages))
    if depth is None:
        raise ValueError(f'no torchvision ResNet has {block} blocks '
                         f'{stages} per stage')
    return depth


def check_strict_load(state_dict: dict, depth: int):
    """Load into ``torchvision.models.resnet<depth>()`` without its ``fc``
    with ``strict=True``; a mismatch is a KeyError naming the keys."""
    import torch
    import torchvision
    net = getattr(torchvision.models, f'resnet{depth}')()
    net.fc = torch.nn.Identity()
    return load_strictly(net, state_dict, f'torchvision resnet{depth}')


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    weights, method, branch = load_backbone(args.checkpoint, args.branch)
    state_dict = {k[len('backbone.'):]: v for k, v in weights.items()}
    try:
        depth = torchvision_depth(state_dict)
        check_strict_load(state_dict, depth)
    except (KeyError, ValueError) as err:
        sys.exit(f'error: {args.checkpoint}: {err.args[0]}')
    meta = dict(source=args.checkpoint, branch=branch, method=method,
                torchvision_model=f'resnet{depth}')
    save_checkpoint(dict(state_dict=state_dict, meta=meta), args.out,
                    overwrite=args.overwrite)
    print(f'{method or "unknown method"}: wrote {len(state_dict)} {branch} '
          f'encoder keys to {args.out}; load with\n'
          f'  model = torchvision.models.resnet{depth}()\n'
          '  model.fc = torch.nn.Identity()\n'
          f'  model.load_state_dict(torch.load({args.out!r})["state_dict"])')


if __name__ == '__main__':
    main()
