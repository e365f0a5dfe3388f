import datetime
import os.path as osp
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register mmsiam's modules (and their mmpretrain parents).

    Args:
        init_default_scope (bool): Also make ``mmsiam`` the current default
            scope. When another scope is current, a new uniquely named
            ``mmsiam`` instance is created so the caller's scope is not
            replaced. Defaults to True.
    """
    import mmsiam.datasets  # noqa: F401,F403
    import mmsiam.engine  # noqa: F401,F403
    import mmsiam.evaluation  # noqa: F401,F403
    import mmsiam.models  # noqa: F401,F403
    import mmpretrain.visualization  # noqa: F401,F403  (its visualizers)

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmsiam'):
        DefaultScope.get_instance('mmsiam', scope_name='mmsiam')
    elif current.scope_name != 'mmsiam':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmsiam"; `register_all_modules` creates a new '
                      'default scope named "mmsiam".')
        name = f'mmsiam-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='mmsiam')


def default_work_dir(config_path: str) -> str:
    """OpenMMLab's default work dir: ``./work_dirs/<config name>``."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
