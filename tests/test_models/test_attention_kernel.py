"""The attention function of mmsiam's transformers: the explicit form is
the same attention as torch's fused kernel, and each input takes the
kernel documented for it."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.utils.attention import MultiheadAttention

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, build_model
from mmsiam.models.layers import (BEiTSDPAttention, explicit_attention,
                                  scaled_dot_product_attention,
                                  use_attention_kernel)


def qkv(dtype, heads=3, tokens=7, dims=8, requires_grad=False):
    torch.manual_seed(0)
    return [torch.randn(2, heads, tokens, dims, dtype=dtype,
                        requires_grad=requires_grad) for _ in range(3)]


@pytest.mark.parametrize('with_mask', [False, True])
@pytest.mark.parametrize('scale', [None, 0.3])
def test_explicit_attention_equals_torch_sdpa(with_mask, scale):
    """In float64: outputs and the gradients of q, k, v and the mask."""
    q, k, v = qkv(torch.float64, requires_grad=True)
    mask = torch.randn(3, 7, 7, dtype=torch.float64,
                       requires_grad=True) if with_mask else None
    ours = explicit_attention(q, k, v, mask, scale=scale)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                            scale=scale)
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    inputs = [q, k, v] + ([mask] if with_mask else [])
    grad_out = torch.randn_like(ours)
    ours_grads = torch.autograd.grad(ours, inputs, grad_out)
    theirs_grads = torch.autograd.grad(theirs, inputs, grad_out)
    for a, b in zip(ours_grads, theirs_grads):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_explicit_attention_refuses_a_bool_mask():
    q, k, v = qkv(torch.float32)
    with pytest.raises(TypeError, match='additive float mask'):
        explicit_attention(q, k, v, torch.ones(7, 7, dtype=torch.bool))


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_low_precision_on_cpu_takes_the_explicit_products(dtype):
    q, k, v = qkv(dtype)
    mask = torch.randn(3, 7, 7).to(dtype)
    assert torch.equal(scaled_dot_product_attention(q, k, v, mask),
                       explicit_attention(q, k, v, mask))


def test_fp32_takes_torch_sdpa():
    q, k, v = qkv(torch.float32)
    assert torch.equal(scaled_dot_product_attention(q, k, v),
                       F.scaled_dot_product_attention(q, k, v))


@pytest.mark.parametrize('config', [DEMO_CONFIG, CONMIM_DEMO_CONFIG],
                         ids=['siameseim', 'conmim'])
def test_every_attention_of_the_models_uses_it(config):
    """Encoders, projectors, predictors and the EMA target copies."""
    model = build_model(config)
    mha = [m for m in model.modules() if isinstance(m, MultiheadAttention)]
    beit = [m for m in model.modules() if isinstance(m, BEiTSDPAttention)]
    assert mha or beit
    for module in mha:
        assert module.scaled_dot_product_attention is \
            scaled_dot_product_attention


def test_an_attention_with_its_own_scale_keeps_it():
    own = MultiheadAttention(16, 2, qk_scale=0.5)
    before = own.scaled_dot_product_attention
    default = MultiheadAttention(16, 2)
    use_attention_kernel([own, default])
    assert own.scaled_dot_product_attention is before
    assert default.scaled_dot_product_attention is \
        scaled_dot_product_attention
