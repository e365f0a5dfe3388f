from .momentum_target_update_hook import MomentumTargetUpdateHook
from .throughput_hook import ThroughputHook
from .validate_at_start_hook import ValidateAtStartHook

__all__ = [
    'MomentumTargetUpdateHook', 'ThroughputHook', 'ValidateAtStartHook'
]
