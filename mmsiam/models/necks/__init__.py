from .siameseim_projector import SiameseIMProjector

__all__ = ['SiameseIMProjector']
