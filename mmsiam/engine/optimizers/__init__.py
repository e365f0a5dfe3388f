from .any_device_amp_optim_wrapper import AnyDeviceAmpOptimWrapper
from .frozen_summary_constructor import FrozenSummaryOptimWrapperConstructor
from .lars_mocov3 import LARSMoCoV3
from .layer_decay_constructor import LayerDecayOptimWrapperConstructor
from .sharded_grad_scaler import FusedOptimizerShardedGradScaler

__all__ = [
    'AnyDeviceAmpOptimWrapper', 'FrozenSummaryOptimWrapperConstructor',
    'LARSMoCoV3', 'LayerDecayOptimWrapperConstructor',
    'FusedOptimizerShardedGradScaler'
]
