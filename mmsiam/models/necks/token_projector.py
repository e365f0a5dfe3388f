from typing import Optional

from mmpretrain.models.necks import NonLinearNeck
from torch import Tensor

from mmsiam.registry import MODELS

from ..utils import FreshInitMixin, beit_init


@MODELS.register_module()
class TokenProjector(FreshInitMixin, NonLinearNeck):
    """An MLP projector with BatchNorms applied to every token (ConMIM).

    mmpretrain's ``NonLinearNeck`` (keys ``fc0, bn0, fc1, bn1, ...``) run on
    all ``B * L`` tokens as one batch, cls token included, so BatchNorm
    statistics are over the tokens of the local batch (no SyncBN). The cls
    token is dropped afterwards. ConMIM: ``D -> 4096 -> 4096 -> 256``,
    Linear layers without bias, BN + ReLU between them, a last BN without
    affine parameters.

    Init: Linear weights BEiT truncated normal (std 0.02, cut at +-0.02),
    BatchNorm (1, 0).

    Args:
        in_channels (int): Token width D.
        hid_channels (int): Defaults to 4096.
        out_channels (int): Defaults to 256.
        num_layers (int): Linear layers. Defaults to 3.
        drop_cls_token (bool): Drop the first token of the output.
            Defaults to True.
        norm_cfg (dict): Defaults to ``dict(type='BN1d')``.
        **kwargs: Other ``NonLinearNeck`` arguments.

    Shape:
        ``(B, L, in_channels) -> (B, L - 1, out_channels)`` (``L`` with
        ``drop_cls_token=False``).
    """

    def __init__(self,
                 in_channels: int,
                 hid_channels: int = 4096,
                 out_channels: int = 256,
                 num_layers: int = 3,
                 drop_cls_token: bool = True,
                 norm_cfg: dict = dict(type='BN1d'),
                 init_cfg: Optional[dict] = None,
                 **kwargs):
        kwargs.setdefault('with_bias', False)
        kwargs.setdefault('with_last_bn', True)
        kwargs.setdefault('with_last_bn_affine', False)
        kwargs.setdefault('with_last_bias', False)
        super().__init__(
            in_channels,
            hid_channels,
            out_channels,
            num_layers=num_layers,
            with_avg_pool=False,
            norm_cfg=norm_cfg,
            **kwargs)
        # Not NonLinearNeck's default init_cfg: init_weights below does it.
        self.init_cfg = init_cfg
        self.drop_cls_token = drop_cls_token

    def init_fresh_weights(self) -> None:
        self.apply(beit_init)

    def forward(self, tokens: Tensor) -> Tensor:
        batch, length, channels = tokens.shape
        out = super().forward((tokens.reshape(batch * length, channels), ))[0]
        out = out.reshape(batch, length, -1)
        return out[:, 1:] if self.drop_cls_token else out
