"""MULAN (part: BYOL): views and cutout, the published pairs, per-view-type
predictors, the loss formula and the EMA target."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from helpers import (MULAN_DEMO_CONFIG, REPO, build_model, mulan_samples,
                     num_parameters)
from mmsiam.models.heads import multi_task_pairs
from mmsiam.registry import TRANSFORMS
from mmsiam.utils import register_all_modules

CONFIGS = osp.join(REPO, 'configs', 'mulan')
PAPER = osp.join(CONFIGS, 'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py')
DEMO = MULAN_DEMO_CONFIG
MULAN_TYPES = ['global', 'global', 'local', 'local', 'cutout']


# ----- views -----
def test_paper_pipeline_yields_the_documented_views():
    register_all_modules()
    cfg = Config.fromfile(PAPER)
    pipeline = [TRANSFORMS.build(t)
                for t in cfg.train_dataloader.dataset.dataset.pipeline[1:]]
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(2):
        results = dict(img=rng.integers(0, 256, (300, 260, 3), np.uint8))
        for transform in pipeline:
            results = transform(results)
        samples.append(results)
    batch = default_collate(samples)
    assert [tuple(v.shape[1:]) for v in batch['inputs']] == [
        (3, 224, 224), (3, 224, 224), (3, 96, 96), (3, 96, 96),
        (3, 224, 224)]
    assert batch['data_samples'][0].view_type == [
        'global', 'global', 'local', 'local', 'cutout']


def test_cutout_area_aspect_and_fill():
    cutout = TRANSFORMS.build(dict(type='RandomCutout'))
    np.random.seed(0)
    fractions = []
    for _ in range(300):
        img = np.full((224, 224, 3), 7, np.uint8)
        results = cutout(dict(img=img))
        top, left, h, w = results['cutout_box']
        # rounding of w and h moves the area by at most one row/column
        assert 0.2 - 2 / 224 <= h * w / 224**2 <= 0.4 + 2 / 224
        assert 3 / 4 - 0.02 <= w / h <= 4 / 3 + 0.02
        box = results['img'][top:top + h, left:left + w]
        assert (box == np.array([104, 116, 124], np.uint8)).all()
        assert (results['img'] == 7).all(-1).sum() == 224 * 224 - h * w
        fractions.append(h * w / 224**2)
    assert np.mean(fractions) == pytest.approx(0.3, abs=0.01)
    assert img.sum() == 7 * img.size  # the input is not modified


def test_filled_box_is_zero_after_normalisation():
    model = build_model(DEMO)
    img = np.zeros((64, 64, 3), np.uint8)
    results = TRANSFORMS.build(dict(type='RandomCutout'))(dict(img=img))
    top, left, h, w = results['cutout_box']
    chw = torch.from_numpy(results['img']).permute(2, 0, 1)
    data = model.data_preprocessor(
        dict(inputs=[chw[None]], data_samples=None), False)
    box = data['inputs'][0][0, :, top:top + h, left:left + w]
    assert box.abs().max() < 0.01


# ----- pairs and predictors -----
def test_pairs_are_the_published_eight():
    pairs = multi_task_pairs({'global': 2, 'local': 2, 'cutout': 1})
    assert pairs == [('global', 0, 1), ('global', 1, 0),
                     ('local', 0, 0), ('local', 0, 1),
                     ('local', 1, 0), ('local', 1, 1),
                     ('cutout', 0, 0), ('cutout', 0, 1)]
    assert len(multi_task_pairs({'global': 2, 'local': 4, 'cutout': 1})) \
        == 12
    with pytest.raises(ValueError, match='2 global'):
        multi_task_pairs({'global': 1, 'local': 2})


def random_views(batch=4):
    torch.manual_seed(0)
    sizes = [64, 64, 32, 32, 64]
    return [torch.randn(batch, 3, s, s) for s in sizes]


def test_each_predictor_learns_only_from_its_view_type():
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = build_model(DEMO).train()
    for task in ('global', 'local', 'cutout'):
        model.zero_grad()
        losses = model.loss(random_views(), mulan_samples(4))
        losses[f'loss_{task}'].backward()
        for name, predictor in model.head.predictors.items():
            grads = [p.grad for p in predictor.parameters()]
            if name == task:
                assert all(g is not None and g.abs().sum() > 0
                           for g in grads)
            else:
                assert all(g is None or g.abs().sum() == 0 for g in grads)


def test_shared_switch_leaves_one_predictor():
    cfg = Config.fromfile(DEMO)
    model = build_model(DEMO, head=dict(cfg.model.head, shared_predictor=True))
    assert list(model.head.predictors) == ['shared']
    assert model.head.predictor('local') is model.head.predictor('cutout')
    per_view = build_model(DEMO)
    assert num_parameters(per_view.head) == 3 * num_parameters(model.head)


def test_byol_loss_formula_on_a_hand_built_case():
    head = build_model(DEMO).head
    # Identity predictors: the test checks the pairs and the loss formula.
    head.predictors = torch.nn.ModuleDict(
        {task: torch.nn.Identity() for task in head.predictors})
    torch.manual_seed(0)
    targets = [torch.randn(3, 8), torch.randn(3, 8)]
    # Globals need not come first: the packed types place every view.
    view_types = ['local', 'global', 'cutout', 'global', 'local']
    projections = [torch.randn(3, 8) for _ in view_types]
    losses = head.loss(projections, targets, view_types)

    def term(p, z):
        return (2 - 2 * F.cosine_similarity(p.double(), z.double())).mean()

    l, g, c = projections[0::4], projections[1::2], projections[2]  # noqa
    expected = {
        'loss_global': (term(g[0], targets[1]) + term(g[1], targets[0])) / 2,
        'loss_local': sum(term(v, z) for v in l for z in targets) / 4,
        'loss_cutout': sum(term(c, z) for z in targets) / 2,
    }
    assert list(losses) == ['loss_global', 'loss_local', 'loss_cutout']
    for key, value in expected.items():
        assert losses[key].item() == pytest.approx(value.item(), rel=1e-6)
    # p || z -> 0, p perpendicular -> 2, p = -z -> 4; equal terms x -> 3x
    z = torch.tensor([[1., 0.]])
    for p, value in ((2 * z, 0.), (torch.tensor([[0., 3.]]), 2.),
                     (-z, 4.)):
        total = sum(head.loss([p] * 5, [z, z], MULAN_TYPES).values())
        assert total.item() == pytest.approx(3 * value, abs=1e-6)


def test_the_head_checks_view_types_and_targets():
    head = build_model(DEMO).head
    projections = [torch.randn(3, 64) for _ in range(5)]
    targets = [torch.randn(3, 64)] * 2
    with pytest.raises(ValueError, match=r"views of type \['crop'\] but the "
                       r"head has predictors for \['global', 'local', "
                       r"'cutout'\] only"):
        head.loss(projections, targets, MULAN_TYPES[:4] + ['crop'])
    with pytest.raises(ValueError, match='3 targets for 2 global views'):
        head.loss(projections, targets + targets[:1], MULAN_TYPES)
    with pytest.raises(ValueError, match='at least 2 global views, got 1'):
        head.loss(projections, targets[:1],
                  ['global', 'local', 'local', 'cutout', 'cutout'])


def test_the_model_reads_the_packed_view_types():
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = build_model(DEMO).train()
    with pytest.raises(ValueError, match=r"PackInputs\(meta_keys=\["
                       r"'view_type'\]\)"):
        model.loss(random_views(), [DataSample()] * 4)
    with pytest.raises(ValueError, match=r"packed view_type \['global', "
                       r"'global', 'local', 'local', 'cutout'\] for 4 views"):
        model.loss(random_views()[:4], mulan_samples(4))
    # Four local views: a pipeline setting only, the model follows it.
    views = random_views()
    views = views[:3] + [views[2]] * 3 + views[4:]
    types = ['global', 'global'] + ['local'] * 4 + ['cutout']
    losses = model.loss(views, mulan_samples(4, types))
    assert set(losses) == {'loss_global', 'loss_local', 'loss_cutout'}


# ----- target -----
def test_byol_target_moves_only_by_ema():
    MessageHub.get_current_instance().update_info('max_iters', 100)
    model = build_model(DEMO).train()
    optim = OptimWrapper(torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.5))
    target = {k: v.detach().clone()
              for k, v in model.target.module[0].named_parameters()}
    with torch.no_grad():  # make the branches differ
        for param in model.backbone.parameters():
            param.add_(0.1)
    online = {k: v.detach().clone()
              for k, v in model.backbone.named_parameters()}
    losses = model.loss(random_views(), mulan_samples(4))
    optim.update_params(sum(losses.values()))
    weight = 0.004  # online weight at step 0: target momentum 0.996
    for name, param in model.target.module[0].named_parameters():
        assert param.grad is None
        expected = (1 - weight) * target[name] + weight * online[name]
        assert torch.allclose(param, expected, atol=1e-6), name
    assert not torch.allclose(model.backbone.conv1.weight,
                              online['conv1.weight'])


def test_resnet50_parameter_counts():
    cfg = Config.fromfile(PAPER)
    model = build_model(PAPER, init=False)
    assert num_parameters(model.backbone) == 23_508_032
    assert num_parameters(model.neck) == 9_445_632
    for predictor in model.head.predictors.values():
        assert num_parameters(predictor) == 2_105_600
    assert math.isclose(cfg.model.base_momentum, 0.004)


# ----- ViT -----
VIT_S = osp.join(CONFIGS,
                 'mulan-byol_vit-small-p16_4xb256-amp-coslr-200e_in1k.py')


def test_dino_pos_embed_interpolation():
    from mmsiam.models.utils import interpolate_pos_embed_dino
    torch.manual_seed(0)
    pos = torch.randn(1, 197, 8)
    assert interpolate_pos_embed_dino(pos, 14, (14, 14)) is pos
    small = interpolate_pos_embed_dino(pos, 14, (6, 6))
    assert small.shape == (1, 37, 8) and torch.equal(small[:, 0], pos[:, 0])
    # DINO's scale factor (6.1 / 14), computed directly
    grid = pos[:, 1:].reshape(1, 14, 14, 8).permute(0, 3, 1, 2)
    direct = F.interpolate(grid, scale_factor=(6.1 / 14, 6.1 / 14),
                           mode='bicubic', recompute_scale_factor=False)
    assert torch.allclose(small[:, 1:],
                          direct.permute(0, 2, 3, 1).reshape(1, 36, 8))
    # ... which is not an interpolation to an explicit 6 x 6 size
    explicit = F.interpolate(grid, size=(6, 6), mode='bicubic')
    assert not torch.allclose(direct, explicit, atol=1e-3)


def test_vit_counts_drop_path_and_batched_views():
    register_all_modules()
    for config, backbone, projector in (
            (VIT_S, 21_665_664, 19_415_296),
            (VIT_S.replace('vit-small', 'vit-base'), 85_798_656,
             20_988_160)):
        with torch.device('meta'):
            model = build_model(config, init=False)
        assert num_parameters(model.backbone) == backbone
        assert num_parameters(model.neck) == projector
    assert model.batch_views and model.target.momentum == 0.002
    online = [m.drop_prob for m in model.backbone.modules()
              if hasattr(m, 'drop_prob')]
    target = [m.drop_prob for m in model.target.modules()
              if hasattr(m, 'drop_prob')]
    assert max(online) == pytest.approx(0.1) and set(target) == {0.}


def test_batched_views_equal_separate_views_for_vit():
    tiny = dict(type='DINOViT', arch=dict(embed_dims=48, num_layers=2,
                                          num_heads=3,
                                          feedforward_channels=96),
                img_size=64, patch_size=16)
    model = build_model(VIT_S, backbone=tiny,
                  neck=dict(Config.fromfile(VIT_S).model.neck,
                            in_channels=48, hid_channels=64,
                            out_channels=32),
                  head=dict(Config.fromfile(VIT_S).model.head,
                            predictor=dict(
                                Config.fromfile(VIT_S).model.head.predictor,
                                in_channels=32, hid_channels=64,
                                out_channels=32)))
    model.backbone.eval()
    torch.manual_seed(0)
    views = [torch.randn(2, 3, s, s) for s in (64, 64, 32, 32, 64)]
    batched = model._encode(model.backbone, views, MULAN_TYPES)
    model.batch_views = False
    separate = model._encode(model.backbone, views, MULAN_TYPES)
    for (a, ), (b, ) in zip(batched, separate):
        assert torch.allclose(a, b, atol=1e-5)
