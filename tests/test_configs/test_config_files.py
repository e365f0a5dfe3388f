"""Every config under configs/ parses and its model builds."""
import glob
import os.path as osp

import pytest
from mmengine import DefaultScope
from mmengine.config import Config

from conftest import REPO
from mmsiam.registry import MODELS
from mmsiam.utils import register_all_modules

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True))
TOP_CONFIGS = [p for p in CONFIGS if '_base_' not in p]


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_parses(path):
    Config.fromfile(path)


@pytest.mark.parametrize('path', TOP_CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in TOP_CONFIGS])
def test_model_builds(path):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(path)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert sum(p.numel() for p in model.parameters()) > 0
