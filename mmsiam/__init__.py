"""mmsiam: Siamese self-supervised pretraining on the OpenMMLab stack.

Importing it registers nothing in other libraries and changes none of them;
the fixes for the pinned stack are applied by :mod:`mmsiam.runtime`.
"""
from .version import __version__, version_info

__all__ = ['__version__', 'version_info']
