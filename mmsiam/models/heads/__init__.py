from .siameseim_head import SiameseIMHead

__all__ = ['SiameseIMHead']
