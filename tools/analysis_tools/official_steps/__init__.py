"""The official codes' training steps, rebuilt from ``../shared/specs/`` for
side-by-side timing (``benchmark_vs_official.py``).

Each reference model has the official module layout and key names (so the
official-to-mmsiam converters turn its weights into an mmsiam model, and a
test checks that both compute the same loss) and the official codes' way of
computing: timm blocks with explicit attention (``q @ k^T``, softmax,
``@ v``: timm 0.3.2 / BEiT v1), BatchNorm over transposed tokens, an EMA
that loops over parameters, torch's default AdamW. No official code is
copied or imported.
"""
from .common import OfficialStep
from .conmim import ConMIMOfficial
from .siameseim import SiameseIMOfficial

__all__ = ['OfficialStep', 'SiameseIMOfficial', 'ConMIMOfficial']
