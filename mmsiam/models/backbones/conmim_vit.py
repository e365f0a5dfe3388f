from typing import Optional

from mmpretrain.models.backbones import BEiTViT
from mmpretrain.models.selfsup import BEiTPretrainViT
from torch import Tensor

from mmsiam.registry import MODELS

from ..layers import use_sdpa_attention
from ..utils import (FreshInitMixin, beit_init, check_mask_grid,
                     checkpoint_layers, trunc_normal_one_std_)


@MODELS.register_module()
class ConMIMViT(FreshInitMixin, BEiTPretrainViT):
    """The ConMIM encoder: a BEiT-v1 ViT for masked image modeling.

    mmpretrain's ``BEiTPretrainViT`` (so keys are mmpretrain's BEiT names:
    ``layers.i.{ln1,attn.qkv,attn.q_bias,attn.v_bias,attn.proj,gamma_1,
    gamma_2,ln2,ffn.layers.0.0,ffn.layers.1}``, ``rel_pos_bias.*``,
    ``mask_token``, final norm ``ln1``) configured as ConMIM pretrains it:

    * no absolute position embedding; one relative position bias table
      shared by all blocks (``(2G-1)^2 + 3`` rows, zero init);
    * q/v biases (k bias 0), layer scale ``gamma_1/2`` initialised to
      ``layer_scale_init_value``;
    * masked patch embeddings replaced by ``mask_token`` before the cls
      token is prepended; pre-norm LN (eps 1e-6) and a final LN on all
      tokens;
    * BEiT init: every Linear and the patch Conv2d, ``cls_token`` and
      ``mask_token`` truncated normal std 0.02 cut at +-0.02, biases 0, LN
      (1, 0); then ``attn.proj.weight`` and ``ffn.layers.1.weight`` of block
      ``i`` (1-based) divided by ``sqrt(2 i)``;
    * attention through ``F.scaled_dot_product_attention`` with the bias as
      an additive mask (:class:`~mmsiam.models.layers.BEiTSDPAttention`).

    ``with_cp=True`` turns on activation checkpointing of the blocks
    (:func:`~mmsiam.models.utils.checkpoint_layers`).

    Archs: ``'small'`` is ViT-S/16 (384-d, 12 blocks, 6 heads; mmpretrain's
    BEiT ``'small'`` is another model), ``'base'``, ``'large'``.

    Shapes: ``forward(x, mask)`` with images ``(B, 3, H, W)`` and a bool
    mask ``(B, G, G)`` (True = masked) or None returns a 1-tuple with
    tokens ``(B, 1 + G*G, D)``, cls first.
    """
    arch_zoo = {
        **BEiTViT.arch_zoo,
        **dict.fromkeys(['s', 'small'], BEiTViT.arch_zoo['deit-small']),
    }

    # ConMIM's position encoding, not an option of this encoder.
    position_encoding = dict(
        use_abs_pos_emb=False,
        use_rel_pos_bias=False,
        use_shared_rel_pos_bias=True)

    def __init__(self,
                 arch='base',
                 layer_scale_init_value: float = 0.1,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        fixed = sorted(set(kwargs) & set(self.position_encoding))
        if fixed:
            raise ValueError(
                f'ConMIMViT: {", ".join(fixed)} cannot be set in '
                'model.backbone; ConMIM encodes positions with one shared '
                'relative position bias table and no absolute position '
                'embedding')
        kwargs.setdefault('out_type', 'raw')
        kwargs.setdefault('final_norm', True)
        super().__init__(
            arch=arch,
            **self.position_encoding,
            layer_scale_init_value=layer_scale_init_value,
            init_cfg=init_cfg,
            **kwargs)
        use_sdpa_attention(self.layers)
        if with_cp:
            checkpoint_layers(self.layers)

    def init_fresh_weights(self) -> None:
        # mmpretrain's init truncates at +-2 (absolute); redo it as BEiT v1.
        self.apply(beit_init)
        trunc_normal_one_std_(self.cls_token)
        trunc_normal_one_std_(self.mask_token)
        self.rescale_init_weight()

    def forward(self, x: Tensor, mask: Optional[Tensor] = None):
        if mask is not None:
            check_mask_grid(mask, self.patch_resolution, type(self).__name__)
        return super().forward(x, mask)
