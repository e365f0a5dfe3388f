import torch
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from mmsiam.registry import MODELS


@MODELS.register_module()
class TokenBatchNorm(nn.Module):
    """BatchNorm over the tokens of a sequence, as a drop-in token norm.

    Normalises each channel over all ``B * L`` tokens (cls included), in
    float32 even under autocast. The inner BatchNorm is ``bn`` (state-dict
    keys ``<name>.bn.*``); ``sync_bn`` in a config converts it for
    distributed runs like any BatchNorm.

    Args:
        num_features (int): Channels C.
        bn_cfg (dict): The BatchNorm. Defaults to ``dict(type='BN1d')``.
        eps, momentum: BatchNorm arguments (1e-5, 0.1 by default).

    Shape:
        ``(B, L, C) -> (B, L, C)`` float32.
    """

    def __init__(self,
                 num_features: int,
                 bn_cfg: dict = dict(type='BN1d'),
                 eps: float = 1e-5,
                 momentum: float = 0.1):
        super().__init__()
        cfg = dict(bn_cfg, eps=eps, momentum=momentum)
        self.bn = build_norm_layer(cfg, num_features)[1]

    def forward(self, x: Tensor) -> Tensor:
        # BatchNorm1d of (B * L, C) normalises over the same B * L values
        # as of (B, C, L), without the two transposed copies.
        with torch.autocast(x.device.type, enabled=False):
            return self.bn(x.float().reshape(-1, x.shape[-1])).view(x.shape)
