from .momentum_target_fsdp_strategy import (MomentumTargetFSDPStrategy,
                                            fsdp_units)

__all__ = ['MomentumTargetFSDPStrategy', 'fsdp_units']
