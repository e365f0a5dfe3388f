from typing import Tuple

import torch
from mmpretrain.models.heads import LinearClsHead

from mmsiam.registry import MODELS


@MODELS.register_module()
class StandardizedLinearClsHead(LinearClsHead):
    """A linear classifier on features standardised per dimension.

    MULAN's linear protocol (``eval_linear.py --normalize-features``): each
    dimension of the frozen encoder's feature is shifted by a fixed mean
    and divided by a fixed standard deviation plus ``eps`` before the
    linear layer, which "removes the need to tune the learning rate". The
    statistics are buffers (saved in checkpoints) that
    :class:`mmsiam.engine.FeatureStandardizationHook` fits before training
    on the features of a whole dataset (the val images in the paper).

    Args:
        eps (float): Added to the standard deviation. Defaults to 1e-8, the
            official value.
        **kwargs: ``LinearClsHead`` arguments (``num_classes``,
            ``in_channels``, ``loss``, ``init_cfg``...).
    """

    def __init__(self, eps: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.eps = eps
        self.register_buffer('feature_mean', torch.zeros(self.in_channels))
        self.register_buffer('feature_std', torch.ones(self.in_channels))
        self.register_buffer('fitted', torch.tensor(False))

    def raw_feature(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """The feature before standardisation: ``(N, in_channels)``."""
        return super().pre_logits(feats)

    def fit_standardization(self, mean: torch.Tensor,
                            std: torch.Tensor) -> None:
        """Fix the statistics: ``mean`` and ``std`` of shape
        ``(in_channels, )``."""
        self.feature_mean.copy_(mean)
        self.feature_std.copy_(std)
        self.fitted.fill_(True)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """``(N, in_channels)`` standardised features of the last stage."""
        if not self.fitted:
            raise RuntimeError(
                'StandardizedLinearClsHead: its feature statistics were never '
                "fitted; add dict(type='mmsiam.FeatureStandardizationHook') "
                'to custom_hooks, or load a checkpoint trained with it')
        return ((self.raw_feature(feats) - self.feature_mean) /
                (self.feature_std + self.eps))
