"""mmpretrain backbones whose ``Pretrained`` init fails on a checkpoint
that does not fit (mmengine's loader only logs mismatches)."""
from mmpretrain.models.backbones import ResNet, VisionTransformer

from mmsiam.registry import MODELS

from ..utils import StrictPretrainedMixin


@MODELS.register_module()
class StrictPretrainedViT(StrictPretrainedMixin, VisionTransformer):
    """mmpretrain's ``VisionTransformer`` loaded strictly from ``backbone.*``
    weights (position embedding resized by mmpretrain's load hook;
    pretraining-only final norms skipped). For dense use, e.g.
    ``out_type='featmap', out_indices=(3, 5, 7, 11)`` under UperNet, and for
    linear probes with ``out_type='avg_featmap'``, whose pooled-feature norm
    ``ln2`` is new unless the checkpoint was fine-tuned.

    Args:
        freeze_pos_embed (bool): Keep the position embedding fixed (SiameseIM
            fine-tuning); the patch embedding stays trainable. Defaults to
            False.
        **kwargs: ``VisionTransformer`` arguments.
    """
    allow_missing_keys = (r'ln2\.(weight|bias)', )

    def __init__(self, freeze_pos_embed: bool = False, **kwargs):
        super().__init__(**kwargs)
        if freeze_pos_embed:
            self.pos_embed.requires_grad_(False)


@MODELS.register_module()
class StrictPretrainedResNet(StrictPretrainedMixin, ResNet):
    """mmpretrain's ``ResNet`` (torchvision key names; works as an mmdet /
    mmseg backbone with ``out_indices``, ``frozen_stages``, ``norm_eval``)
    loaded strictly from ``backbone.*`` weights."""
