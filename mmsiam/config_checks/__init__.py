"""Checks of a config before the runner is built: unknown top-level and
component keys (with a suggestion), misplaced dataset keys, missing data
folders, images too small for fixed-size crops, schedulers that do not fit
the run; each error names the key and what was expected."""
from .checks import check_config
from .errors import ConfigKeyError
from .schedules import fit_schedulers_to_run

__all__ = ['check_config', 'ConfigKeyError', 'fit_schedulers_to_run']
