from .compat import (allow_mmengine_checkpoint_globals,
                     history_buffer_getattr, patch_lvis_numpy_aliases)
from .config_checks import check_config
from .distributed import exit_distributed, prepare_distributed_env
from .random_state import preserved_random_state
from .setup_env import register_all_modules
from .work_dir import default_work_dir

__all__ = [
    'allow_mmengine_checkpoint_globals',
    'history_buffer_getattr', 'patch_lvis_numpy_aliases',
    'check_config', 'prepare_distributed_env', 'register_all_modules',
    'default_work_dir', 'exit_distributed', 'preserved_random_state'
]
