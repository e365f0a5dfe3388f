from .data_sample_fields import stack_field
from .global_feature import global_feature
from .momentum_target import MomentumTarget, cosine_momentum
from .pos_embed import (interpolate_pos_embed_dino, relative_patch_centres,
                        sincos_1d, sincos_2d, sincos_2d_relative)
from .mask_grid import check_mask_grid
from .pretrained_loading import StrictPretrainedMixin, load_backbone_checkpoint
from .token_batch_norm import TokenBatchNorm
from .transformer_blocks import transformer_blocks
from .weight_init import (beit_init, is_pretrained_init, trunc_normal_one_std_,
                          xavier_linear_unit_norm)
from .window_attention import (RelPosAttention, window_partition,
                               window_unpartition)

__all__ = [
    'MomentumTarget', 'cosine_momentum', 'relative_patch_centres',
    'sincos_1d', 'sincos_2d', 'sincos_2d_relative', 'TokenBatchNorm',
    'transformer_blocks', 'is_pretrained_init',
    'RelPosAttention', 'window_partition', 'window_unpartition',
    'load_backbone_checkpoint', 'StrictPretrainedMixin',
    'xavier_linear_unit_norm', 'beit_init', 'trunc_normal_one_std_',
    'stack_field', 'interpolate_pos_embed_dino', 'global_feature',
    'check_mask_grid'
]
