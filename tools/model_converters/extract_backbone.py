#!/usr/bin/env python
"""Export the encoder of an mmsiam pretraining checkpoint for downstream use.

Writes ``{'state_dict': {'backbone.<key>': ...}, 'meta': {source, branch,
method, backbone}}`` with mmpretrain ViT / ResNet key names, which every
downstream config of this repository loads with
``init_cfg=dict(type='Pretrained', checkpoint=OUT, prefix='backbone.')``.
``backbone`` is the encoder config of the pretraining run
(:func:`mmsiam.checkpoint.encoder_config.encoder_config_of`; None when the
checkpoint records none): what the weights do not tell, such as a ViT's
number of heads, which ``mmsiam_to_timm.py`` needs for an encoder that no
timm model name has.

Branches:

* ``online``: the ``backbone.*`` keys of the checkpoint;
* ``target``: the target / teacher encoder, ``target.module.0.*`` in every
  mmsiam method.

The default is the branch each method's paper evaluates (SiameseIM: online;
ConMIM: target, the teacher), or the one encoder of a file without a target
branch (a ``backbone.*`` file, whose ``meta`` names its branch); the method
and encoder config are read from the config stored in the checkpoint
(``meta['cfg']``). The optimizer, message hub and the other branch are
dropped. A truncated or unreadable checkpoint ends the
tool with an error naming it (export another checkpoint of the work dir).
A BEiT-style shared relative position bias (ConMIM) is written as one table
per block (``backbone.layers.<i>.attn.relative_position_bias_table``), the
form mmpretrain's ``BEiTViT(use_rel_pos_bias=True)`` and mmseg's ``BEiT``
load.

Example::

    python tools/model_converters/extract_backbone.py \\
        work_dirs/siameseim/epoch_1600.pth siameseim_backbone.pth
"""
import argparse
import sys

from mmengine.config import Config
from mmengine.runner.checkpoint import _load_checkpoint

from mmsiam.checkpoint.encoder_config import encoder_config_of
from mmsiam.runtime import setup_runtime
from checkpoint_io import (EXPORT_ANOTHER, exit_if_unreadable, file_size,
                           save_checkpoint, timed_step)
from key_mapping import expand_shared_rel_pos_bias

BRANCH_PREFIX = {'online': 'backbone.', 'target': 'target.module.0.'}
# The branch each method's paper evaluates downstream.
PAPER_BRANCH = {'SiameseIM': 'online', 'ConMIM': 'target'}


def branch_export_parser(description: str, out_help: str
                         ) -> argparse.ArgumentParser:
    """The arguments of the tools that export one branch of a checkpoint:
    ``checkpoint``, ``out``, ``--branch``, ``--overwrite``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('checkpoint', help='mmsiam pretraining checkpoint '
                        'or backbone file')
    parser.add_argument('out', help=out_help)
    parser.add_argument(
        '--branch', choices=sorted(BRANCH_PREFIX),
        help="'online' or 'target' (default: the branch the method's paper "
        'evaluates)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace OUT if it exists')
    return parser


def parse_args(argv=None):
    return branch_export_parser(
        'Export backbone.* weights of an mmsiam checkpoint',
        'backbone checkpoint to write').parse_args(argv)


def method_of(checkpoint) -> str:
    """The model type recorded by the runner or a converter, or '' if
    unknown."""
    meta = checkpoint.get('meta', {})
    if meta.get('method'):
        return meta['method']
    cfg_text = meta.get('cfg')
    if not cfg_text:
        return ''
    try:
        return Config.fromstring(cfg_text, '.py').model.get('type', '')
    except Exception:  # a config of another tool, not ours to judge
        return ''


def extract(state_dict, branch):
    """``backbone.*`` state dict of ``branch``; raises KeyError with the
    reason when the checkpoint has no such branch or it is incomplete."""
    prefix = BRANCH_PREFIX[branch]
    weights = {
        'backbone.' + k[len(prefix):]: v
        for k, v in state_dict.items() if k.startswith(prefix)
    }
    if not weights:
        parts = sorted({k.split('.')[0] for k in state_dict})
        raise KeyError(
            f'the checkpoint has no {branch} branch (no "{prefix}*" keys); '
            f'its top-level parts are {parts}')
    if branch == 'target':
        online = {k for k in state_dict if k.startswith('backbone.')}
        missing = sorted(online - set(weights))
        if missing:
            raise KeyError(f'the target encoder lacks {len(missing)} online '
                           f'backbone keys, e.g. {missing[:5]}')
    return weights


def load_backbone(path: str, branch: str = None):
    """The encoder of one branch of the mmsiam checkpoint ``path``.

    Args:
        path (str): A pretraining checkpoint, or a ``backbone.*`` file.
        branch (str, optional): 'online' or 'target'; None: the branch the
            method's paper evaluates, or the one encoder of a file without
            a target branch.

    Returns:
        tuple[dict, dict]: ``backbone.*`` state dict (a shared relative
        position bias copied into every block), and what the exports
        record in their ``meta``: ``method`` ('' if unknown), ``branch``
        and the encoder config ``backbone`` (:func:`encoder_config_of`;
        None if the checkpoint records none). A checkpoint
        that is unreadable or lacks the branch ends the tool with an error
        that names the file.
    """
    with timed_step(f'loading {path} ({file_size(path)})'), \
            exit_if_unreadable(path, EXPORT_ANOTHER):
        checkpoint = _load_checkpoint(path, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    info = dict(method=method_of(checkpoint),
                backbone=encoder_config_of(checkpoint))
    # A file without a target branch (a backbone.* file) has one encoder:
    # the branch it was exported from, if its meta says.
    one_encoder = not any(k.startswith(BRANCH_PREFIX['target'])
                          for k in state_dict)
    branch = branch or ('online' if one_encoder else
                        PAPER_BRANCH.get(info['method'], 'online'))
    try:
        weights = extract(state_dict, branch)
    except KeyError as err:
        sys.exit(f'error: {path}: {err.args[0]}')
    info['branch'] = ((checkpoint.get('meta') or {}).get('branch', branch)
                      if one_encoder else branch)
    if expand_shared_rel_pos_bias(weights):
        print('note: the shared relative position bias was copied into '
              'every block')
    return weights, info


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    weights, info = load_backbone(args.checkpoint, args.branch)
    save_checkpoint(dict(state_dict=weights,
                         meta=dict(source=args.checkpoint, **info)),
                    args.out, overwrite=args.overwrite)
    print(f'{info["method"] or "unknown method"}: wrote {len(weights)} '
          f'{info["branch"]} backbone keys to {args.out}')


if __name__ == '__main__':
    main()
