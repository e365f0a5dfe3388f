"""FrozenSummaryOptimWrapperConstructor builds the optimizer of mmengine's
default constructor and reports fully frozen modules in one line."""
import copy
import logging
from contextlib import contextmanager

import pytest
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, REPO, build_model

MULAN_DEMO = (f'{REPO}/configs/mulan/'
              'mulan-mocov3_resnet18-w16_1xb64-coslr-3e_mnist5k_demo.py')
PER_TENSOR = 'is skipped since its requires_grad=False'


@contextmanager
def logged_messages():
    """The messages of mmengine's current logger inside the block."""
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


def _build(model, optim_wrapper_cfg):
    with DefaultScope.overwrite_default_scope('mmsiam'):
        with logged_messages() as messages:
            wrapper = build_optim_wrapper(model, copy.deepcopy(
                optim_wrapper_cfg))
    return wrapper.optimizer.param_groups, messages


@pytest.mark.parametrize('config', [DEMO_CONFIG, CONMIM_DEMO_CONFIG,
                                    MULAN_DEMO],
                         ids=['siameseim', 'conmim', 'mulan'])
def test_same_param_groups_frozen_modules_in_one_line(config):
    cfg = Config.fromfile(config)
    assert cfg.optim_wrapper.constructor == \
        'FrozenSummaryOptimWrapperConstructor'
    model = build_model(config, init=False)
    default_cfg = copy.deepcopy(cfg.optim_wrapper)
    default_cfg.pop('constructor')
    expected_groups, default_messages = _build(model, default_cfg)
    groups, messages = _build(model, cfg.optim_wrapper)

    assert len(groups) == len(expected_groups)
    for group, expected in zip(groups, expected_groups):
        assert group.keys() == expected.keys()
        assert [id(p) for p in group['params']] == \
            [id(p) for p in expected['params']]
        assert {k: v for k, v in group.items() if k != 'params'} == \
            {k: v for k, v in expected.items() if k != 'params'}

    # Per module, as mmengine walks them: a tensor shared by two modules
    # (SiameseIM's fixed position embedding) counts in both.
    frozen = [name for name, p in model.named_parameters(
        remove_duplicate=False) if not p.requires_grad]
    assert sum(PER_TENSOR in m for m in default_messages) == len(frozen)
    summary = [m for m in messages if 'left out of the optimizer' in m]
    assert len(summary) == 1
    counts = {module: int(count) for module, count in
              (part.rsplit(' (', 1) for part in
               summary[0].split('by module: ')[1].rstrip(')').split('), '))}
    assert 'target' in counts
    for module, count in counts.items():
        inside = [n for n in frozen if n.startswith(module + '.')]
        assert len(inside) == count  # the whole module is frozen
        assert all(p.requires_grad is False for n, p in
                   model.named_parameters(remove_duplicate=False)
                   if n.startswith(module + '.'))
    # Tensors of partly frozen modules still get mmengine's own warning.
    assert sum(PER_TENSOR in m for m in messages) == \
        len(frozen) - sum(counts.values())
    assert summary[0].startswith(f'{sum(counts.values())} frozen parameter '
                                 'tensors (requires_grad=False)')
