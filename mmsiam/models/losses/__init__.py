from .mocov3_pair_loss import MoCoV3PairLoss
from .patch_contrast_loss import PatchContrastLoss
from .unigrad_loss import UniGradLoss

__all__ = ['MoCoV3PairLoss', 'PatchContrastLoss', 'UniGradLoss']
