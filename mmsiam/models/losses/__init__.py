from .patch_contrast_loss import PatchContrastLoss
from .unigrad_loss import UniGradLoss

__all__ = ['PatchContrastLoss', 'UniGradLoss']
