"""mmsiam: Siamese self-supervised pretraining on the OpenMMLab stack."""
from .utils.compat import apply_stack_fixes
from .version import __version__, version_info

apply_stack_fixes()

__all__ = ['__version__', 'version_info']
