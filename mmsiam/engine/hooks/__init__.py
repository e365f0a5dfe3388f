from .feature_standardization_hook import FeatureStandardizationHook
from .fixed_peak_lr_hook import FixedPeakLRHook
from .iter_seed_hook import IterSeedHook
from .kernel_choice_hook import KernelChoiceHook
from .non_finite_guard_hook import NonFiniteGuardHook
from .online_linear_probe_hook import OnlineLinearProbeHook
from .strict_load_checkpoint_hook import StrictLoadCheckpointHook
from .throughput_hook import ThroughputHook
from .validate_at_start_hook import ValidateAtStartHook

__all__ = [
    'FeatureStandardizationHook', 'FixedPeakLRHook', 'IterSeedHook',
    'KernelChoiceHook',
    'NonFiniteGuardHook', 'OnlineLinearProbeHook',
    'StrictLoadCheckpointHook', 'ThroughputHook', 'ValidateAtStartHook'
]
