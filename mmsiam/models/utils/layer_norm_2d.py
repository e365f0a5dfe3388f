import torch.nn.functional as F
from torch import Tensor, nn

from mmsiam.registry import MODELS


@MODELS.register_module(name='LN2d')
class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a feature map (ViTDet's LN2d).

    Registered as ``LN2d``; from mmdet / mmseg configs use
    ``norm_cfg=dict(type='mmsiam.LN2d')``.

    Shape: ``(B, C, H, W) -> (B, C, H, W)``.
    """
    _abbr_ = 'ln2d'

    def __init__(self, num_features: int, eps: float = 1e-6, **kwargs):
        super().__init__(num_features, eps=eps, **kwargs)

    def forward(self, x: Tensor) -> Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias,
                         self.eps)
        return x.permute(0, 3, 1, 2)
