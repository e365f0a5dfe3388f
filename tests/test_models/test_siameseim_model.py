"""SiameseIM model: position embeddings, sizes, loss, momentum and the whole
loss against an independent implementation of the published formulas."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmpretrain.structures import DataSample

from helpers import DEMO_CONFIG, REPO, build_model
from mmsiam.models.losses import UniGradLoss
from mmsiam.models.utils import (cosine_momentum, sincos_2d,
                                 sincos_2d_relative)

PAPER = (f'{REPO}/configs/siameseim/'
         'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py')
DEMO = DEMO_CONFIG


# ---------------------------------------------------------------- formulas
def sincos_np(pos, dims):
    """Spec: [sin(p w_k), cos(p w_k)], w_k = 10000^(-k/(dims/2)), float64."""
    omega = 10000.**(-np.arange(dims // 2) / (dims // 2))
    angles = np.asarray(pos, dtype=np.float64)[..., None] * omega
    return np.concatenate([np.sin(angles), np.cos(angles)], -1)


def absolute_np(grid, dims):
    rows, cols = np.divmod(np.arange(grid * grid), grid)
    return np.concatenate([sincos_np(rows, dims // 2),
                           sincos_np(cols, dims // 2)], -1)


def relative_np(geometry, grid, dims):
    """Spec section 2/3: centres (gh, gw) and the 8-part embedding."""
    di, dj, dh, dw, flip, fdj = geometry
    rows, cols = np.divmod(np.arange(grid * grid), grid)
    gh = dh * (rows + 0.5) + grid * di - 0.5
    gw = (-dw * (cols + 0.5) + grid * fdj - 0.5 if flip else
          dw * (cols + 0.5) + grid * dj - 0.5)
    ones = np.ones(grid * grid)
    return np.concatenate([
        sincos_np(gh, dims // 2), sincos_np(gw, dims // 2),
        sincos_np(10 * math.log(dh) * ones, dims // 2),
        sincos_np(10 * math.log(dw) * ones, dims // 2)
    ], -1)


def test_absolute_embedding_matches_formula_and_mmpretrain():
    from mmpretrain.models.utils import build_2d_sincos_position_embedding
    ours = sincos_2d(14, 768, cls_token=True)
    assert ours.shape == (1, 197, 768) and not ours[0, 0].any()
    assert np.allclose(ours[0, 1:].numpy(), absolute_np(14, 768), atol=2e-7)
    theirs = build_2d_sincos_position_embedding(14, 768, cls_token=True)
    assert torch.allclose(ours, theirs.float(), atol=1e-6)


def test_relative_embedding_matches_formula():
    geometries = [[0.1, -0.2, 0.8, 1.3, 0., 0.9],
                  [-0.3, 0.25, 1.6, 0.7, 1., 1.4]]
    ours = sincos_2d_relative(torch.tensor(geometries), 14, 768)
    assert ours.shape == (2, 196, 1536)
    for got, geometry in zip(ours, geometries):
        assert np.allclose(got.numpy(), relative_np(geometry, 14, 768),
                           atol=1e-6)


def test_relative_equals_absolute_at_identity():
    identity = torch.tensor([[0., 0., 1., 1., 0., 0.]])
    rel = sincos_2d_relative(identity, 14, 768)[0]
    assert (rel[:, :768] - sincos_2d(14, 768)[0, 1:]).abs().max() <= 6.7e-7
    scale = rel[:, 768:].reshape(196, 2, 2, 192)  # (h|w, sin|cos, k)
    assert scale[:, :, 0].abs().max() == 0 and (scale[:, :, 1] == 1).all()


# ------------------------------------------------------------------ sizes
def test_vit_base_sizes_match_the_paper():
    model = build_model(PAPER)
    online = [model.backbone, model.neck, model.head]
    fixed = {
        id(p)
        for p in (model.backbone.pos_embed, model.head.decoder_pos_embed,
                  model.target.module[0].pos_embed)
    }
    params = [p for m in online for p in m.parameters()]
    trainable = sum(p.numel() for p in params if p.requires_grad)
    total = sum(p.numel() for p in params if id(p) not in fixed)
    target = sum(p.numel() for p in model.target.parameters()
                 if id(p) not in fixed)
    assert trainable == 129_944_832
    assert total == 130_535_424  # + frozen patch embedding 590,592
    # Official 100,412,928 also counts an EMA copy of the mask token that
    # is never used; mmsiam does not keep it.
    assert target == 100_412_928 - 768
    block = model.backbone.layers[0]
    assert sum(p.numel() for p in block.parameters()) == 7_087_872
    # The target holds its own copy of the fixed position embedding (FSDP
    # cannot share a parameter between two units).
    target_pos_embed = model.target.module[0].pos_embed
    assert target_pos_embed is not model.backbone.pos_embed
    assert torch.equal(target_pos_embed, model.backbone.pos_embed)
    assert not target_pos_embed.requires_grad
    assert not any(p.requires_grad for p in model.backbone.patch_embed
                   .parameters())


# ------------------------------------------------------------------- loss
def unigrad_nxn(pred, target, neg_weight=0.02):
    """Official form with the N x N matrix, float64."""
    p = pred.double().reshape(-1, pred.shape[-1])
    t = target.double().reshape(-1, pred.shape[-1])
    pos = ((p - t)**2).sum(-1).mean()
    c = t.T @ t / t.shape[0]
    neg = torch.diagonal(p @ c @ p.T).mean()
    return (pos + neg_weight * neg) / pred.shape[-1]


def test_cheap_unigrad_equals_nxn_form():
    torch.manual_seed(0)
    pred, target = torch.randn(3, 49, 32), torch.randn(3, 49, 32)
    ours = UniGradLoss(0.02)(pred, target)
    assert ours.item() == pytest.approx(unigrad_nxn(pred, target).item(),
                                        rel=1e-6)
    # pred = target: the positive term vanishes.
    same = UniGradLoss(0.02)(target, target)
    t = target.double().reshape(-1, 32)
    neg = ((t @ (t.T @ t / t.shape[0])) * t).sum(-1).mean()
    assert same.item() == pytest.approx((0.02 * neg / 32).item(), rel=1e-6)


def test_unigrad_gradient_flows_to_pred_only():
    pred = torch.randn(2, 4, 8, requires_grad=True)
    target = torch.randn(2, 4, 8, requires_grad=True)
    UniGradLoss()(pred, target.detach()).backward()
    assert pred.grad is not None and target.grad is None


# ---------------------------------------------------------------- momentum
def test_cosine_momentum_schedule():
    taus = [1 - cosine_momentum(k, 100, 0.005) for k in (0, 50, 100)]
    assert taus == pytest.approx([0.995, 0.9975, 1.0], abs=1e-12)


def _batch(model, batch=2, seed=0):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    size = model.backbone.patch_resolution[0] * model.backbone.patch_size
    grid = model.backbone.grid_size
    views = [torch.randn(batch, 3, size, size) for _ in range(2)]
    samples = []
    for _ in range(batch):
        mask = np.zeros(grid * grid, dtype=bool)
        mask[rng.choice(grid * grid, int(0.6 * grid * grid), False)] = True
        sample = DataSample()
        sample.set_mask(torch.from_numpy(mask.reshape(grid, grid)))
        sample.set_field(
            torch.tensor([rng.uniform(-.3, .3), rng.uniform(-.3, .3),
                          rng.uniform(.5, 2), rng.uniform(.5, 2),
                          float(rng.integers(2)), rng.uniform(.5, 1.5)],
                         dtype=torch.float32), 'relative_geometry')
        samples.append(sample)
    return views, samples


def test_target_moves_only_by_the_ema():
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = build_model(DEMO)
    before = copy.deepcopy(model.target.state_dict())
    views, samples = _batch(model)
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5)
    online_before = {k: v.clone() for k, v in model.backbone.state_dict()
                     .items()}
    model.loss(views, samples)['loss'].backward()
    optimizer.step()
    assert int(model.target.steps) == 1
    tau = 1 - cosine_momentum(0, 10, 0.005)
    for key, value in model.target.module[0].state_dict().items():
        old = before[f'module.0.{key}']
        if key == 'pos_embed':  # shared and fixed
            assert torch.equal(value, old)
            continue
        expected = old * tau + online_before[key] * (1 - tau)
        assert torch.allclose(value, expected, rtol=0, atol=1e-7), key
    # The optimizer step moved the online encoder, not the target.
    moved = model.backbone.layers[0].attn.qkv.weight
    assert not torch.equal(moved, online_before['layers.0.attn.qkv.weight'])


# ------------------------------------------------- whole loss vs reference
def reference_loss(model, views, samples, max_iters):
    """The published forward written from the spec, on a copy."""
    model = copy.deepcopy(model)
    view1, view2 = views
    enc, proj, head = model.backbone, model.neck, model.head
    t_enc, t_proj = model.target.module
    dims, grid = enc.embed_dims, enc.grid_size
    # EMA of parameters before the target forward (official form).
    tau = 1 - 0.005 * (1 + math.cos(0)) / 2
    with torch.no_grad():
        for t_mod, o_mod in ((t_enc, enc), (t_proj, proj)):
            for (name, t), o in zip(t_mod.named_parameters(),
                                    o_mod.parameters()):
                if name != 'pos_embed':
                    t.data = t.data * tau + o.data * (1. - tau)
    pos = torch.from_numpy(absolute_np(grid, dims)).float()

    def patches(m, x):
        w, b = m.patch_embed.projection.weight, m.patch_embed.projection.bias
        out = F.conv2d(x, w, b, stride=m.patch_size)
        return out.flatten(2).transpose(1, 2) + pos

    def blocks(layers, x):
        for layer in layers:
            x = layer(x)
        return x

    with torch.no_grad():
        x = patches(t_enc, view2)
        x = torch.cat([t_enc.cls_token.expand(len(x), -1, -1), x], 1)
        x = blocks(t_proj.blocks, t_proj.decoder_embed(blocks(t_enc.layers,
                                                              x)))
        target = F.layer_norm(x[:, 1:], (dims, ), eps=1e-5)
    masks = [s.mask.flatten().numpy() for s in samples]
    x = patches(enc, view1)
    x = torch.stack([x[i, ~m] for i, m in enumerate(masks)])
    x = torch.cat([enc.cls_token.expand(len(x), -1, -1), x], 1)
    x = blocks(proj.blocks, proj.decoder_embed(blocks(enc.layers, x)))
    visible_pos = torch.stack([pos[~m] for m in masks])
    rel = torch.stack([
        torch.from_numpy(relative_np(s.relative_geometry.tolist(), grid,
                                     dims)).float() for s in samples
    ])
    queries = head.mask_token + head.pos_mlp(rel)
    seq = torch.cat([x[:, :1], x[:, 1:] + visible_pos, queries], 1)
    pred = head.pred(blocks(head.blocks, seq)[:, -grid * grid:])
    return unigrad_nxn(pred, target)


def test_loss_equals_published_formulas():
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = build_model(DEMO)
    views, samples = _batch(model, batch=3, seed=1)
    expected = reference_loss(model, views, samples, 10)
    got = model.loss(views, samples)['loss']
    assert abs(got.item() - expected.item()) / expected.item() < 1e-5


def test_loss_needs_two_views_and_fields():
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = build_model(DEMO)
    views, samples = _batch(model)
    with pytest.raises(ValueError, match='view1, view2'):
        model.loss(views[:1], samples)
    del samples[1].relative_geometry
    with pytest.raises(KeyError, match='relative_geometry'):
        model.loss(views, samples)
