"""Helpers of the models: position embeddings, weight init, the EMA target,
strict pretrained loading, data-sample fields, the optimizer-step hook,
activation checkpointing and torch.compile of the parts."""
from .activation_checkpointing import checkpoint_layers
from .after_optimizer_step import (call_after_optimizer_steps,
                                   run_after_skipped_step)
from .compile_model import compile_model
from .data_sample_fields import stack_field
from .global_feature import global_feature
from .momentum_target import MomentumTarget, cosine_momentum
from .pos_embed import (interpolate_pos_embed_dino, relative_patch_centres,
                        sincos_1d, sincos_2d, sincos_2d_relative)
from .mask_grid import check_mask_grid
from .pretrained_loading import StrictPretrainedMixin, load_backbone_checkpoint
from .weight_init import (FreshInitMixin, beit_init, is_pretrained_init,
                          trunc_normal_one_std_, xavier_linear_unit_norm)

__all__ = [
    'checkpoint_layers', 'call_after_optimizer_steps',
    'run_after_skipped_step', 'compile_model', 'FreshInitMixin',
    'MomentumTarget', 'cosine_momentum', 'relative_patch_centres',
    'sincos_1d', 'sincos_2d', 'sincos_2d_relative', 'is_pretrained_init',
    'load_backbone_checkpoint', 'StrictPretrainedMixin',
    'xavier_linear_unit_norm', 'beit_init', 'trunc_normal_one_std_',
    'stack_field', 'interpolate_pos_embed_dino', 'global_feature',
    'check_mask_grid'
]
