"""Config mistakes that only show in the data (view counts, mask grids) give
errors that name the setting and the expected value."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, build_model



@pytest.fixture(autouse=True)
def max_iters():
    MessageHub.get_current_instance().update_info('max_iters', 10)


def test_siameseim_needs_two_views():
    model = build_model(DEMO_CONFIG)
    views = [torch.zeros(2, 3, 64, 64)] * 3
    with pytest.raises(ValueError, match=r'SiameseIM takes inputs=\[view1, '
                       r'view2\]; got 3 views'):
        model.loss(views, [DataSample(), DataSample()])


@pytest.mark.parametrize('config', [DEMO_CONFIG, CONMIM_DEMO_CONFIG],
                         ids=['siameseim', 'conmim'])
def test_mask_off_the_patch_grid_is_explained(config):
    backbone = build_model(config).backbone
    images = torch.zeros(2, 3, 64, 64)
    mask = torch.zeros(2, 14, 14, dtype=torch.bool)
    mask[:, :7] = True
    with pytest.raises(ValueError) as error:
        backbone(images, mask)
    message = str(error.value)
    assert 'the pipeline packed masks of 14x14 patches' in message
    assert "the encoder's patch grid is 8x8" in message
    assert 'BlockwiseMaskGenerator input_size=8' in message
