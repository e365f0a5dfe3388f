"""Checks of a config before the runner is built: unknown top-level and
component keys (with a suggestion), misplaced dataset keys, missing data
folders and images too small for fixed-size crops; each error names the
key and what was expected."""
from .checks import check_config
from .errors import ConfigKeyError

__all__ = ['check_config', 'ConfigKeyError']
