import pytest
import torch
from torch import nn

from mmsiam.engine import AnyDeviceAmpOptimWrapper
from mmsiam.registry import OPTIM_WRAPPERS

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(),
    reason='the CPU path of AnyDeviceAmpOptimWrapper')


def _wrapper(model):
    return AnyDeviceAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        clip_grad=dict(max_norm=1.0))


def test_amp_on_cpu_trains_in_bfloat16():
    model = nn.Linear(4, 2)
    wrapper = _wrapper(model)
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    before = model.weight.detach().clone()
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(before, model.weight)
    assert 'loss_scaler' not in wrapper.state_dict()


def test_gpu_checkpoint_state_loads_on_cpu():
    model = nn.Linear(4, 2)
    state = _wrapper(model).state_dict()
    state['loss_scaler'] = {'scale': 65536.0, '_growth_tracker': 3}
    _wrapper(model).load_state_dict(state)


def test_registered_name_is_the_mmsiam_class():
    assert OPTIM_WRAPPERS.get(
        'AnyDeviceAmpOptimWrapper') is AnyDeviceAmpOptimWrapper
    with pytest.raises(ValueError, match='float64'):
        AnyDeviceAmpOptimWrapper(
            dtype='float64',
            optimizer=torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=1))


def test_float16_on_cpu_scales_the_loss_and_skips_overflowing_steps():
    """dtype='float16' runs the GPU recipe's loss scaling on the CPU: a
    step whose scaled gradients overflow is skipped and the scale halved;
    the next finite step updates the weights."""
    model = nn.Linear(4, 2)
    wrapper = AnyDeviceAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        dtype='float16', loss_scale=dict(init_scale=2.**70))
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.float16
    wrapper.update_params(out.float().pow(2).mean())
    assert torch.equal(before, model.weight)
    assert wrapper.optimizer_steps == 0
    assert wrapper.loss_scaler.get_scale() == 2.**69
    wrapper.loss_scaler.update(1.)  # a scale fp16 gradients survive
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(before, model.weight)
    assert wrapper.optimizer_steps == 1
    assert 'loss_scaler' in wrapper.state_dict()
