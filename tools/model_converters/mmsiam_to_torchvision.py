#!/usr/bin/env python
"""Export the ResNet encoder of an mmsiam checkpoint (MULAN) as a
torchvision state dict.

mmpretrain's ResNet keys (``conv1``, ``bn1``, ``layer<s>.<b>.conv<k>``,
``bn<k>``, ``downsample.0/1``) are torchvision's. The tool finds the depth
from the blocks per stage (18, 34, 50, 101, 152) and checks that the
encoder has torchvision's widths (64 stem channels, planes 64 to 512;
``resnet_layout.py``): other widths or depths, such as the demos' width-16
ResNet-18, are an error that says to export to timm with
``mmsiam_to_timm.py``, which takes them. It loads the export into
``torchvision.models.resnet<depth>()`` with its classifier removed
(``model.fc = torch.nn.Identity()``) with ``strict=True`` before writing
it: a key that does not match is an error, never a warning. Then
``model(x)`` is the pooled feature ``(B, 2048)`` for ResNet-50, the global
average of the mmsiam encoder's last stage ``backbone(x)[-1]``.

Output: ``{'state_dict': {torchvision keys}, 'meta': {torchvision_model,
source, branch, method, backbone}}``.

Example::

    python tools/model_converters/mmsiam_to_torchvision.py \\
        work_dirs/mulan-byol_resnet50/epoch_200.pth mulan_r50_torchvision.pth
"""
import sys

from checkpoint_io import load_strictly, save_checkpoint
from extract_backbone import branch_export_parser, load_backbone
from resnet_layout import STANDARD_CHANNELS, STANDARD_STEM, resnet_layout

from mmsiam.runtime import setup_runtime


def parse_args(argv=None):
    return branch_export_parser(
        'Export an mmsiam ResNet encoder as a torchvision state dict',
        'torchvision state dict to write').parse_args(argv)


def torchvision_depth(state_dict: dict) -> int:
    """The torchvision ResNet depth of mmpretrain ResNet encoder keys
    (``backbone.`` removed); a ValueError says why when there is none."""
    layout = resnet_layout(state_dict)
    if not layout.standard_widths or layout.depth is None:
        raise ValueError(
            f'the encoder has {layout.describe()}; torchvision has only '
            f'resnet18/34/50/101/152 at {STANDARD_STEM} stem channels and '
            f'planes {STANDARD_CHANNELS}: export it to timm, which takes '
            'other widths and depths, with '
            'tools/model_converters/mmsiam_to_timm.py')
    return layout.depth


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
    weights, info = load_backbone(args.checkpoint, args.branch)
    state_dict = {k[len('backbone.'):]: v for k, v in weights.items()}
    try:
        depth = torchvision_depth(state_dict)
        check_strict_load(state_dict, depth)
    except (KeyError, ValueError) as err:
        sys.exit(f'error: {args.checkpoint}: {err.args[0]}')
    meta = dict(source=args.checkpoint, **info,
                torchvision_model=f'resnet{depth}')
    save_checkpoint(dict(state_dict=state_dict, meta=meta), args.out,
                    overwrite=args.overwrite)
    print(f'{info["method"] or "unknown method"}: wrote {len(state_dict)} '
          f'{info["branch"]} encoder keys to {args.out}; load with\n'
          f'  model = torchvision.models.resnet{depth}()\n'
          '  model.fc = torch.nn.Identity()\n'
          f'  model.load_state_dict(torch.load({args.out!r})["state_dict"])')


if __name__ == '__main__':
    main()
