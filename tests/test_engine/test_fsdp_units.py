"""The FSDP units of MomentumTargetFSDPStrategy, and what --strategy does
to a config (the 2-process runs are tests/test_tools/test_fsdp_train.py)."""
import os.path as osp

import pytest
from mmengine.config import Config

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, DEMO_PRETRAIN_CONFIG,
                     REPO, build_model, load_tool)
from mmsiam.engine import MomentumTargetFSDPStrategy, fsdp_units

SIAMESEIM_VIT_L = osp.join(
    REPO, 'configs', 'siameseim',
    'siameseim_vit-large-p16_32xb128-fsdp-amp-coslr-1600e_in1k.py')


@pytest.mark.parametrize(
    'config', [DEMO_CONFIG, CONMIM_DEMO_CONFIG, DEMO_PRETRAIN_CONFIG])
def test_online_modules_and_target_copies_are_cut_alike(config):
    model = build_model(config, init=False)
    units = fsdp_units(model)
    target_encoder, target_projector = model.target.module
    for online, copy in ((model.backbone, target_encoder),
                         (model.neck, target_projector)):
        assert online in units and copy in units
        online_units = [n for n, m in online.named_modules() if m in units]
        copy_units = [n for n, m in copy.named_modules() if m in units]
        assert online_units == copy_units
    # The head is called through head.loss, not forward: not a unit itself.
    assert model.head not in units


def test_every_transformer_block_is_a_unit():
    model = build_model(DEMO_CONFIG, init=False)
    units = fsdp_units(model)
    assert all(layer in units for layer in model.backbone.layers)
    assert all(block in units for block in model.head.blocks)
    assert len(units) == 2 * 2 + 2 * 4 + 2 * len(model.neck.blocks) + len(
        model.head.blocks)


def test_fsdp_needs_a_distributed_launch():
    train = load_tool('train.py')
    with pytest.raises(ValueError, match='tools/dist_train.sh CONFIG N '
                       '--strategy fsdp .* --strategy ddp'):
        train.main([DEMO_CONFIG, '--strategy', 'fsdp'])


def test_sharded_checkpoints_are_refused(tmp_path):
    with pytest.raises(ValueError, match="state_dict_cfg='local' writes one "
                       "shard file per process.*use state_dict_cfg='full'"):
        MomentumTargetFSDPStrategy(state_dict_cfg='local',
                                   work_dir=str(tmp_path))


def merged(config, *options):
    """``config`` as tools/train.py makes it for ``options``."""
    train = load_tool('train.py')
    args = train.parse_args([config, '--launcher', 'pytorch', *options])
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(args.cfg_options or {})
    return train.merge_args(cfg, args)


def test_fsdp_configs_train_with_fsdp_unless_told_ddp():
    cfg = merged(SIAMESEIM_VIT_L)
    assert cfg.runner_type == 'FlexibleRunner'
    assert cfg.strategy.type == 'mmsiam.MomentumTargetFSDPStrategy'
    # The paper's synchronised BatchNorm goes to the strategy.
    assert cfg.strategy.sync_bn == 'torch' and 'sync_bn' not in cfg
    assert 'model_wrapper_cfg' not in cfg
    cfg = merged(SIAMESEIM_VIT_L, '--strategy', 'ddp')
    assert 'runner_type' not in cfg and 'strategy' not in cfg
    assert cfg.sync_bn == 'torch'


def test_strategy_options_from_the_command_line():
    cfg = merged(DEMO_CONFIG, '--strategy', 'fsdp', '--cfg-options',
                 'strategy.activation_checkpointing=None')
    assert cfg.strategy == dict(type='mmsiam.MomentumTargetFSDPStrategy',
                                activation_checkpointing=None,
                                sync_bn='torch')
    assert 'runner_type' not in merged(DEMO_CONFIG)


def test_a_twin_of_another_shape_is_named():
    """What a wrap policy that shards online and target apart leads to:
    MomentumTarget pairs its parameters by name and refuses the shapes."""
    model = build_model(DEMO_CONFIG, init=False)
    target_encoder = model.target.module[0]
    target_encoder.cls_token.data = target_encoder.cls_token.data.flatten()
    with pytest.raises(ValueError, match=r'the EMA target parameter '
                       r'cls_token has shape \(64,\), its online twin '
                       r'\(1, 1, 64\)'):
        model.target.pairs(model.online_modules)
