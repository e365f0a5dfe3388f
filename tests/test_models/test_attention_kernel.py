"""The attention function of mmsiam's transformers: the explicit form is
the same attention as torch's fused kernel; each input signature takes the
kernel measured fastest for it, once, logged, unless a setting forces
one."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmpretrain.models.utils.attention import MultiheadAttention

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, build_model, load_tool
from mmsiam.models.layers import (ATTENTION_KERNELS, BEiTSDPAttention,
                                  explicit_attention,
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


@pytest.fixture
def measured(monkeypatch):
    """The attention kernels measured afresh (no forced kernel, nothing
    chosen yet); the suite's own setting is restored afterwards."""
    monkeypatch.delenv(ATTENTION_KERNELS.env_var, raising=False)
    monkeypatch.setattr(ATTENTION_KERNELS, 'setting', 'auto')
    monkeypatch.setattr(ATTENTION_KERNELS, 'chosen', {})
    return ATTENTION_KERNELS


@pytest.mark.parametrize('name', ['sdpa', 'explicit'])
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_a_forced_kernel_computes_the_attention(measured, monkeypatch, name,
                                                dtype):
    q, k, v = qkv(dtype)
    mask = torch.randn(3, 7, 7).to(dtype)
    monkeypatch.setenv('MMSIAM_ATTENTION_KERNEL', name)
    assert torch.equal(
        scaled_dot_product_attention(q, k, v, mask),
        measured.candidates[name](q, k, v, attn_mask=mask))
    assert not measured.chosen


def test_the_config_key_overrides_the_environment(measured, monkeypatch):
    monkeypatch.setenv('MMSIAM_ATTENTION_KERNEL', 'sdpa')
    measured.force('explicit')
    assert measured.forced() == 'explicit'
    measured.force('auto')
    assert measured.forced() == 'sdpa'


@pytest.mark.parametrize('set_it', ['config', 'env'])
def test_an_unknown_kernel_is_refused_by_name(measured, monkeypatch,
                                              set_it):
    with pytest.raises(ValueError) as error:
        if set_it == 'config':
            measured.force('flash')
        else:
            monkeypatch.setenv('MMSIAM_ATTENTION_KERNEL', 'flash')
            measured.forced()
    key = 'attention_kernel' if set_it == 'config' else \
        'MMSIAM_ATTENTION_KERNEL'
    assert f"{key}='flash'" in str(error.value)
    assert "'sdpa', 'explicit'" in str(error.value)


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_the_measured_kernel_is_kept_logged_and_equal(measured, dtype,
                                                     capsys):
    """One measurement per signature, logged with both timings; the chosen
    kernel's result equals the other's; no random numbers are drawn."""
    # The current logger, writing to this test's captured stdout.
    MMLogger.get_instance(f'attention-kernel-{dtype}')
    q, k, v = qkv(dtype, requires_grad=True)
    mask = torch.randn(3, 7, 7, dtype=dtype)
    rng = torch.get_rng_state()
    out = scaled_dot_product_attention(q, k, v, mask)
    assert torch.equal(torch.get_rng_state(), rng)
    [(signature, name)] = measured.chosen.items()
    assert signature == (f'cpu {str(dtype)[6:]} q (2, 3, 7, 8) '
                         'k (2, 3, 7, 8) mask (3, 7, 7), forward + backward')
    log = capsys.readouterr().out
    assert f'attention kernel for {signature}: {name} (sdpa ' in log
    assert 'ms, explicit ' in log
    other = 'explicit' if name == 'sdpa' else 'sdpa'
    tol = dict(rtol=1e-2, atol=1e-2) if dtype == torch.bfloat16 else {}
    torch.testing.assert_close(
        out, measured.candidates[other](q, k, v, attn_mask=mask), **tol)
    # The same inputs again, and the same shapes without gradients.
    scaled_dot_product_attention(q, k, v, mask)
    assert len(measured.chosen) == 1
    with torch.no_grad():
        scaled_dot_product_attention(q, k, v, mask)
    assert len(measured.chosen) == 2
    assert capsys.readouterr().out.count('attention kernel for') == 1


def test_a_bool_mask_takes_torch_sdpa(measured):
    q, k, v = qkv(torch.float32)
    mask = torch.rand(7, 7) > 0.3
    mask[:, 0] = True
    assert torch.equal(
        scaled_dot_product_attention(q, k, v, mask),
        F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert not measured.chosen


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


@pytest.mark.parametrize('config', [DEMO_CONFIG, CONMIM_DEMO_CONFIG],
                         ids=['siameseim', 'conmim'])
def test_a_kernel_measured_inside_a_checkpointed_block(measured, config):
    """Activation checkpointing (``with_cp``) records what a block's
    forward saves and checks its recomputation saves the same: the
    measurement in the first forward is not part of it."""
    cfg = Config.fromfile(config)
    model = build_model(config, backbone=dict(cfg.model.backbone,
                                              with_cp=True)).train()
    batch = load_tool('analysis_tools/pretrain_step.py').make_batch(
        cfg, 2, cfg.model.backbone.img_size + 16)
    data = model.data_preprocessor(batch, training=True)
    MessageHub.get_current_instance().update_info('max_iters', 10)
    loss = model.loss(data['inputs'], data['data_samples'])['loss']
    loss.backward()
    assert measured.chosen
