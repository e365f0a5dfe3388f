import os.path as osp


def default_work_dir(config_path: str) -> str:
    """OpenMMLab's default work dir: ``./work_dirs/<config name>``."""
    return osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])
