"""mmsiam: Siamese self-supervised pretraining on the OpenMMLab stack."""
from .utils.atomic_files import use_atomic_local_backend
from .utils.checkpoint_loading import use_safe_local_checkpoint_loader
from .utils.compat import apply_stack_fixes
from .version import __version__, version_info

apply_stack_fixes()
# Checkpoints: written atomically, read weights-only with clear errors.
use_atomic_local_backend()
use_safe_local_checkpoint_loader()

__all__ = ['__version__', 'version_info']
