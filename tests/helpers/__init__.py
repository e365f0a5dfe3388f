"""What the tests share: paths and configs, the model builder, running the
tools, and run-equality checks. Import as ``from helpers import ...``
(``pytest.ini`` puts ``tests/`` on the path); fixtures stay in
``conftest.py``."""
from .demo_scale import run_demo_scale, run_demo_scale_launcher
from .models import (MULAN_VIEW_TYPES, build_model, mulan_samples,
                     num_parameters)
from .paths import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, DEMO_PRETRAIN_CONFIG,
                    DIST_OPTIONS, DIST_TRAIN, MULAN_DEMO_CONFIG, REPO,
                    TINY_DEMO_OPTIONS, demo_config)
from .photos import PHOTOS, write_photo_folder
from .tools import (export_backbone, kill_during, kill_tree, living,
                    load_tool, process_tree, run_tool, tool_env, train_tiny)
from .training import (assert_equal_nested, assert_same_training,
                       logged_losses, logged_scalars, resume_after_kill)

__all__ = [
    'MULAN_VIEW_TYPES', 'build_model', 'mulan_samples', 'num_parameters',
    'CONMIM_DEMO_CONFIG', 'DEMO_CONFIG', 'DEMO_PRETRAIN_CONFIG',
    'DIST_OPTIONS', 'DIST_TRAIN',
    'MULAN_DEMO_CONFIG', 'REPO',
    'TINY_DEMO_OPTIONS', 'demo_config', 'export_backbone', 'kill_during',
    'kill_tree', 'living', 'load_tool', 'process_tree', 'run_tool',
    'tool_env', 'train_tiny', 'assert_equal_nested', 'assert_same_training',
    'logged_losses', 'logged_scalars', 'resume_after_kill', 'PHOTOS', 'write_photo_folder',
    'run_demo_scale', 'run_demo_scale_launcher'
]
