from .cpu_allocator import keep_freed_memory
from .distributed import (broadcast_from_process0, die_with_launcher,
                          exit_distributed, prepare_distributed_env)
from .machine import cpu_model, machine_name
from .random_state import preserved_random_state
from .setup_env import default_work_dir, register_all_modules
from .timing import seconds_of
from .work_dir_lock import WorkDirInUseError, lock_work_dir

__all__ = [
    'prepare_distributed_env', 'register_all_modules', 'default_work_dir',
    'exit_distributed', 'preserved_random_state', 'keep_freed_memory',
    'die_with_launcher', 'lock_work_dir', 'WorkDirInUseError',
    'broadcast_from_process0', 'cpu_model', 'machine_name', 'seconds_of'
]
