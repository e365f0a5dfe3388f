from .conmim import ConMIM
from .siameseim import SiameseIM

__all__ = ['ConMIM', 'SiameseIM']
