from .conmim import ConMIM
from .momentum_target_self_supervisor import MomentumTargetSelfSupervisor
from .mulan import MULAN
from .siameseim import SiameseIM

__all__ = ['ConMIM', 'MomentumTargetSelfSupervisor', 'MULAN', 'SiameseIM']
