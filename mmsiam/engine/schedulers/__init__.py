from .layerwise_cosine_annealing_lr import LayerwiseCosineAnnealingLR
from .linear_warmup_lr import LinearWarmupLR

__all__ = ['LayerwiseCosineAnnealingLR', 'LinearWarmupLR']
