"""mmpretrain backbones whose ``Pretrained`` init fails on a checkpoint
that does not fit (mmengine's loader only logs mismatches)."""
from mmpretrain.models.backbones import BEiTViT, ResNet, VisionTransformer

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


@MODELS.register_module()
class StrictPretrainedBEiTViT(StrictPretrainedMixin, BEiTViT):
    """mmpretrain's ``BEiTViT`` loaded strictly from ``backbone.*`` weights:
    the fine-tuning / dense form of a BEiT-style encoder (ConMIM), with one
    relative position bias table per block
    (``use_rel_pos_bias=True``). A shared table in the checkpoint
    (``rel_pos_bias.*``) is copied into every block by mmpretrain's load
    hook, and tables are interpolated when the patch grid differs; exports
    of ``extract_backbone.py`` already hold per-block tables. New parts that
    a pretraining checkpoint lacks: the pooled-feature norm ``ln2``
    (``fc_norm``) and the per-block index buffers; the mask token and the
    pretraining final norm are skipped.

    Args:
        **kwargs: ``BEiTViT`` arguments, e.g. ``out_type='avg_featmap'``,
            ``drop_path_rate=0.1``, ``layer_scale_init_value=0.1``.
    """
    allow_missing_keys = (r'ln2\.(weight|bias)',
                          r'layers\.\d+\.attn\.relative_position_index')
