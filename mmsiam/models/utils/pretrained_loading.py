import logging
import re
from typing import Sequence

from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

from .weight_init import is_pretrained_init

# Pretraining-only parts of an encoder that dense backbones do not have.
PRETRAINING_ONLY = ('cls_token', 'mask_token', 'ln1.', 'ln2.', 'pre_norm.')


def load_backbone_checkpoint(module: nn.Module,
                             path: str,
                             prefix: str = 'backbone.',
                             ignore: Sequence[str] = PRETRAINING_ONLY,
                             allow_missing: Sequence[str] = ()) -> int:
    """Load ``prefix*`` weights of ``path`` into ``module``, strictly.

    mmengine's ``Pretrained`` initialiser loads non-strictly and only logs
    mismatches, so a wrong checkpoint trains silently from scratch. Here a
    checkpoint key the module lacks (unless it starts with one of
    ``ignore``) or a module key the checkpoint lacks (unless it fully
    matches one of the regexes ``allow_missing``) raises ``KeyError`` naming
    them. Load-time hooks of
    the module (e.g. position-embedding resizing) still apply.

    Returns:
        int: the number of loaded tensors.
    """
    ckpt = _load_checkpoint(path, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    weights = {k[len(prefix):]: v for k, v in state.items()
               if k.startswith(prefix)}
    if not weights:
        raise KeyError(f'{path} has no "{prefix}*" keys; export a backbone '
                       'with tools/model_converters/extract_backbone.py')
    own = set(module.state_dict())
    weights = {k: v for k, v in weights.items()
               if k in own or not k.startswith(tuple(ignore))}
    missing, unexpected = module.load_state_dict(weights, strict=False)
    missing = [
        k for k in missing
        if not any(re.fullmatch(pattern, k) for pattern in allow_missing)
    ]
    if missing or unexpected:
        raise KeyError(
            f'{path} does not fit {type(module).__name__}: missing '
            f'{missing[:8]}{"..." if len(missing) > 8 else ""} '
            f'({len(missing)} keys), unexpected {unexpected[:8]} '
            f'({len(unexpected)} keys)')
    print_log(f'{type(module).__name__}: loaded {len(weights)} pretrained '
              f'tensors from {path}', logger='current')
    return len(weights)


class StrictPretrainedMixin:
    """Makes a backbone's ``Pretrained`` init strict.

    Mixed in before an mmengine ``BaseModule`` backbone: with
    ``init_cfg=dict(type='Pretrained', checkpoint=..., prefix=...)`` the
    backbone is first initialised as without a checkpoint, then loaded by
    :func:`load_backbone_checkpoint`, which raises on missing or unknown
    keys. ``allow_missing_keys`` (regexes) name new parts of the backbone
    that a pretraining checkpoint cannot have.

    ``checkpoint=None`` is an error that says how to pass one, unless the
    config also sets ``from_scratch_without_checkpoint=True`` (the demo-scale
    benchmarks, whose run without a checkpoint is the from-scratch
    baseline): then the backbone keeps its random initialisation and says
    so in the log.
    """
    allow_missing_keys: Sequence[str] = ()

    def init_weights(self) -> None:
        init_cfg = self.init_cfg
        if not is_pretrained_init(init_cfg):
            super().init_weights()
            return
        self.init_cfg = None
        try:
            super().init_weights()
        finally:
            self.init_cfg = init_cfg
        if init_cfg.get('checkpoint') is None:
            self._start_from_scratch(init_cfg)
            return
        load_backbone_checkpoint(self, init_cfg['checkpoint'],
                                 init_cfg.get('prefix', 'backbone.'),
                                 allow_missing=self.allow_missing_keys)

    def _start_from_scratch(self, init_cfg: dict) -> None:
        name = type(self).__name__
        if not init_cfg.get('from_scratch_without_checkpoint', False):
            raise ValueError(
                f'{name}: model.backbone.init_cfg names no checkpoint. Pass '
                'the pretrained encoder (tools/model_converters/'
                'extract_backbone.py exports it): tools/benchmarks/<family>/'
                'dist_train.sh CONFIG CHECKPOINT GPUS, or --cfg-options '
                'model.backbone.init_cfg.checkpoint=CHECKPOINT; to train '
                'from scratch on purpose add --cfg-options '
                'model.backbone.init_cfg.from_scratch_without_checkpoint=True')
        print_log(f'{name}: no checkpoint (model.backbone.init_cfg.'
                  'checkpoint=None): trained from its random '
                  'initialisation, the from-scratch baseline',
                  logger='current', level=logging.WARNING)
