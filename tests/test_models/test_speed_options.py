"""The speed options change the cost of a step, not its numbers: BEiT
attention through SDPA, activation checkpointing (``with_cp``),
MULAN's ``channels_last`` and ``torch.compile`` of the parts
(``compile_model``)."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmpretrain.models.utils.attention import BEiTAttention

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, MULAN_DEMO_CONFIG,
                     build_model, load_tool)
from mmsiam.models.backbones import DINOViT
from mmsiam.models.layers import BEiTSDPAttention, use_sdpa_attention
from mmsiam.models.utils import compile_model
from mmsiam.runtime import setup_runtime

CONFIGS = pytest.mark.parametrize('config', [DEMO_CONFIG, CONMIM_DEMO_CONFIG],
                                  ids=['siameseim', 'conmim'])


def loss_and_grads(model, data):
    MessageHub.get_current_instance().update_info('max_iters', 10)
    torch.manual_seed(0)
    losses = model.loss(data['inputs'], data['data_samples'])
    loss = sum(value for key, value in losses.items() if 'loss' in key)
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in model.named_parameters()
                           if p.grad is not None}


def demo_batch(config, model, image_size=None):
    setup_runtime()
    cfg = Config.fromfile(config)
    step = load_tool('analysis_tools/pretrain_step.py')
    batch = step.make_batch(cfg, 4,
                            image_size or cfg.model.backbone.img_size + 16)
    return model.data_preprocessor(batch, training=True)


def assert_same_grads(grads, expected, rtol, atol=None):
    """Every gradient of ``expected`` in ``grads``, within ``rtol`` and
    ``atol`` (default: ``rtol / 10`` of the largest gradient)."""
    assert set(grads) == set(expected)
    if atol is None:
        atol = rtol / 10 * max(float(g.abs().max()) for g in expected.values())
    for name, grad in expected.items():
        torch.testing.assert_close(grads[name], grad, rtol=rtol, atol=atol,
                                   msg=name)


@pytest.mark.parametrize('per_layer_bias', [False, True])
def test_beit_sdpa_attention_equals_mmpretrain(per_layer_bias):
    torch.manual_seed(0)
    theirs = BEiTAttention(48, 4, (3, 3), use_rel_pos_bias=per_layer_bias)
    if per_layer_bias:
        torch.nn.init.normal_(theirs.relative_position_bias_table)
    torch.nn.init.normal_(theirs.q_bias)
    torch.nn.init.normal_(theirs.v_bias)
    ours = copy.deepcopy(theirs)
    layer = torch.nn.Module()
    layer.attn = ours
    use_sdpa_attention([layer])
    assert type(ours) is BEiTSDPAttention
    x = torch.randn(2, 10, 48, requires_grad=True)
    shared = torch.randn(4, 10, 10)
    for bias in (None, shared):
        torch.testing.assert_close(ours(x, bias), theirs(x, bias))
    ours(x, shared).sum().backward()
    grad_ours = x.grad.clone()
    x.grad = None
    theirs(x, shared).sum().backward()
    torch.testing.assert_close(grad_ours, x.grad)


def test_use_sdpa_attention_refuses_other_attention():
    layer = torch.nn.Module()
    layer.attn = torch.nn.Linear(2, 2)
    with pytest.raises(TypeError, match='BEiTAttention'):
        use_sdpa_attention([layer])


@CONFIGS
def test_activation_checkpointing_gives_the_same_loss_and_gradients(config):
    torch.manual_seed(0)
    plain = build_model(config).train()
    backbone = dict(Config.fromfile(config).model.backbone, with_cp=True)
    checkpointed = build_model(config, init=False, backbone=backbone).train()
    checkpointed.load_state_dict(plain.state_dict())
    data = demo_batch(config, plain)
    loss, grads = loss_and_grads(plain, data)
    loss_cp, grads_cp = loss_and_grads(checkpointed, data)
    torch.testing.assert_close(loss_cp, loss)
    assert_same_grads(grads_cp, grads, rtol=1.3e-6, atol=1e-5)
    # The EMA target's layers run with their own weights.
    target_layer = checkpointed.target.module[0].layers[0]
    assert target_layer.forward.__self__ is target_layer


def test_dino_vit_with_cp_gives_the_same_features():
    torch.manual_seed(0)
    arch = dict(embed_dims=32, num_layers=2, num_heads=2,
                feedforward_channels=64)
    plain = DINOViT(arch=arch, img_size=32, patch_size=8)
    plain.init_weights()
    checkpointed = DINOViT(arch=arch, img_size=32, patch_size=8,
                           with_cp=True)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32)
    out, out_cp = plain(x)[0], checkpointed(x)[0]
    torch.testing.assert_close(out_cp, out)
    out.sum().backward()
    out_cp.sum().backward()
    torch.testing.assert_close(checkpointed.layers[0].attn.qkv.weight.grad,
                               plain.layers[0].attn.qkv.weight.grad)


def test_mulan_channels_last_gives_the_same_loss_and_gradients():
    """In float64: the layouts only reorder the sums, whose fp32 rounding
    the batch-4 BatchNorm layers amplify to 0.2-0.5 % of the first
    convolution's largest gradient."""
    torch.manual_seed(0)
    plain = build_model(MULAN_DEMO_CONFIG).train()
    nhwc = build_model(MULAN_DEMO_CONFIG, init=False,
                       channels_last=True).train()
    nhwc.load_state_dict(plain.state_dict())
    data = demo_batch(MULAN_DEMO_CONFIG, plain, image_size=96)
    plain.double()
    nhwc.double()
    data['inputs'] = [view.double() for view in data['inputs']]
    for encoder in (nhwc.backbone, nhwc.target.module[0]):
        assert encoder.conv1.weight.is_contiguous(
            memory_format=torch.channels_last)
    loss, grads = loss_and_grads(plain, data)
    loss_nhwc, grads_nhwc = loss_and_grads(nhwc, data)
    torch.testing.assert_close(loss_nhwc, loss, rtol=1e-12, atol=1e-12)
    assert_same_grads(grads_nhwc, grads, rtol=1e-9)
    # The target's EMA step kept both branches equal.
    for name, value in plain.target.state_dict().items():
        torch.testing.assert_close(nhwc.target.state_dict()[name], value,
                                   rtol=1e-5, atol=1e-6, msg=name)


@pytest.mark.slow
@CONFIGS
def test_compiled_model_gives_the_same_loss_and_gradients(config):
    torch.manual_seed(0)
    eager = build_model(config).train()
    compiled = build_model(config, init=False).train()
    compiled.load_state_dict(eager.state_dict())
    assert compile_model(compiled) == [
        'backbone', 'neck', 'head', 'target.module.0', 'target.module.1']
    data = demo_batch(config, eager)
    loss, grads = loss_and_grads(eager, data)
    loss_compiled, grads_compiled = loss_and_grads(compiled, data)
    torch.testing.assert_close(loss_compiled, loss, rtol=1e-5, atol=1e-6)
    assert_same_grads(grads_compiled, grads, rtol=1e-4)
    assert set(compiled.state_dict()) == set(eager.state_dict())
