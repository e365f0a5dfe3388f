"""The FSDP units of MomentumTargetFSDPStrategy, and --strategy fsdp's
checks (the 2-process runs are tests/test_tools/test_fsdp_train.py)."""
import pytest

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, DEMO_PRETRAIN_CONFIG,
                     build_model, load_tool)
from mmsiam.engine import fsdp_units


@pytest.mark.parametrize('config',
                         [DEMO_CONFIG, CONMIM_DEMO_CONFIG, DEMO_PRETRAIN_CONFIG])
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
                       '--strategy fsdp'):
        train.main([DEMO_CONFIG, '--strategy', 'fsdp'])
