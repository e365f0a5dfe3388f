from mmpretrain.models.backbones import VisionTransformer

from mmsiam.registry import MODELS

from ..utils import is_pretrained_init, load_backbone_checkpoint


@MODELS.register_module()
class StrictPretrainedViT(VisionTransformer):
    """mmpretrain's ``VisionTransformer`` whose ``Pretrained`` init fails on
    a checkpoint that does not fit.

    For dense downstream use (e.g. ``out_type='featmap'``,
    ``out_indices=(3, 5, 7, 11)`` under UperNet): weights are initialised as
    usual, then the ``backbone.*`` checkpoint of ``init_cfg`` is loaded
    (position embedding resized by mmpretrain's load hook) and any missing or
    unknown encoder key raises, where mmengine's loader would only log it.
    Pretraining-only keys the model lacks (final norms) are skipped.
    """

    def init_weights(self) -> None:
        if not is_pretrained_init(self.init_cfg):
            super().init_weights()
            return
        init_cfg, self.init_cfg = self.init_cfg, None
        try:
            super().init_weights()
        finally:
            self.init_cfg = init_cfg
        load_backbone_checkpoint(self, init_cfg['checkpoint'],
                                 init_cfg.get('prefix', 'backbone.'))
