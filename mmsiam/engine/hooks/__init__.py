from .momentum_target_update_hook import MomentumTargetUpdateHook

__all__ = ['MomentumTargetUpdateHook']
