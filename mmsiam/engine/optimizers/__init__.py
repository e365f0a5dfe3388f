from .amp_optim_wrapper import AmpOptimWrapper
from .frozen_summary_constructor import FrozenSummaryOptimWrapperConstructor
from .layer_decay_constructor import LayerDecayOptimWrapperConstructor

__all__ = [
    'AmpOptimWrapper', 'FrozenSummaryOptimWrapperConstructor',
    'LayerDecayOptimWrapperConstructor'
]
