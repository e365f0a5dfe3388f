"""Every paper config follows its official recipe at every iteration of a
whole run (issue #32), not only at one step.

For each config this builds the real model and optimizer wrapper, checks
every trainable parameter's lr multiplier and weight decay against the
rules of the specs (``../shared/specs``), then steps the config's real
parameter schedulers and hooks as mmengine's runner steps them and
compares the lr of every parameter group at every iteration with the
official formula, at 10 iterations per epoch and at the ImageNet-1k count;
the EMA momentum of every iteration too. The formulas below are written
from the specs, not from mmsiam's code.
"""
import math
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
import pytest
import torch
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.hooks import ParamSchedulerHook
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, build_optim_wrapper
from torch import nn

from helpers import DEMO_PRETRAIN_CONFIG, REPO, demo_config
from mmsiam.engine import AnyDeviceAmpOptimWrapper, LARSMoCoV3
from mmsiam.registry import HOOKS, MODELS, PARAM_SCHEDULERS
from mmsiam.utils import register_all_modules

# The schedulers are stepped without optimizer steps.
pytestmark = pytest.mark.filterwarnings(
    'ignore:Detected call of `scheduler.step\\(\\)` before:UserWarning')

IMAGENET_TRAIN_IMAGES = 1_281_167
SMALL_EPOCH = 10  # iterations per epoch of a short run


def layer_id(name: str, num_layers: int) -> int:
    """MAE / BEiT layer ids: embeddings and tokens 0, block ``i`` i + 1,
    everything else ``num_layers + 1``."""
    if re.match(r'backbone\.(cls_token|mask_token|pos_embed|patch_embed)',
                name):
        return 0
    block = re.match(r'backbone\.layers\.(\d+)\.', name)
    if block:
        return int(block.group(1)) + 1
    return num_layers + 1


def flat(name, param):
    return param.ndim <= 1


@dataclass
class Recipe:
    """An official recipe, from the specs.

    ``warmup``: ``'t/W'`` (MAE, MULAN: the peak at iteration W) or
    ``'t/(W-1)'`` (BEiT's linspace: the peak at W - 1 and W).
    ``floor``: the cosine's end for a group of scale 1 (absolute; a
    layer-decay group of scale s ends at ``s * floor``).
    ``no_decay(name, param)``: parameters without weight decay.
    ``layer_decay``: (rate, number of blocks) or None.
    ``target_keep``: the target's initial EMA weight tau_0, rising to 1 on
    a cosine; ``'copy'``: a copy of the online branch at every step
    (SimSiam); None: no target.
    """
    config: str
    batch: int
    epochs: int
    peak: float
    weight_decay: float
    no_decay: Callable
    warmup_epochs: int = 0
    warmup: str = 't/W'
    floor: float = 0.
    floor_ratio: Optional[float] = None  # floor = ratio * peak
    per_epoch: bool = False
    fixed_lr: Callable = field(default=lambda name: False)
    layer_decay: Optional[tuple] = None
    target_keep: Optional[object] = None
    optimizer: str = 'AdamW'

    @property
    def path(self):
        return osp.join(REPO, 'configs', self.config)

    def floor_of(self, peak):
        return self.floor if self.floor_ratio is None else \
            self.floor_ratio * peak

    def lr_scale(self, name):
        if self.layer_decay is None:
            return 1.
        rate, num_layers = self.layer_decay
        return rate**(num_layers + 1 - layer_id(name, num_layers))

    def lr(self, epoch_length: int, peak: Optional[float] = None):
        """The official lr of a group of scale 1 at every iteration."""
        peak = self.peak if peak is None else peak
        floor = self.floor_of(peak)
        total = self.epochs * epoch_length
        t = np.arange(total, dtype=np.float64)
        if self.per_epoch:  # set once per epoch, no warm-up
            epoch = t // epoch_length
            return floor + (peak - floor) * 0.5 * (
                1 + np.cos(np.pi * epoch / self.epochs))
        warm = self.warmup_epochs * epoch_length
        lr = floor + (peak - floor) * 0.5 * (
            1 + np.cos(np.pi * (t - warm) / (total - warm)))
        if warm:
            ramp = t / warm if self.warmup == 't/W' else t / (warm - 1)
            lr = np.where(t < warm, peak * ramp, lr)
        return lr

    def target_momentum(self, total: int):
        """The online weight ``1 - tau_k`` of the EMA at every iteration."""
        k = np.arange(total, dtype=np.float64)
        if self.target_keep == 'copy':
            return np.ones_like(k)
        return (1 - self.target_keep) * (1 + np.cos(np.pi * k / total)) / 2


def no_decay_siameseim(name, param):
    return param.ndim <= 1 or name.endswith('.bias')


def no_decay_beit(name, param):
    return (param.ndim <= 1 or name.endswith('.bias')
            or name.split('.')[-1] in ('cls_token', 'pos_embed'))


def no_decay_mae_finetune(name, param):
    last = name.split('.')[-1]
    return param.ndim <= 1 or last in ('cls_token', 'pos_embed')


def siameseim_pretrain(config, epochs, batch=4096):
    return Recipe(config, batch, epochs, 1e-3, 0.05, no_decay_siameseim,
                  warmup_epochs=40, target_keep=0.995)


def conmim_pretrain(config, epochs, peak=7.5e-4):
    return Recipe(config, 2048, epochs, peak, 0.05, no_decay_beit,
                  warmup_epochs=10, warmup='t/(W-1)', floor=1e-5,
                  target_keep=0.996)


def mulan_lars(config, batch=1024, epochs=200):
    return Recipe(config, batch, epochs, 0.4 * batch / 256, 1.5e-6, flat,
                  warmup_epochs=10, floor_ratio=1e-3, target_keep=0.996,
                  optimizer='LARSMoCoV3')


def mulan_vit(config):
    return Recipe(config, 1024, 200, 3e-4 * 1024 / 256, 0.1, flat,
                  warmup_epochs=10, floor_ratio=1e-3, target_keep=0.998)


RECIPES = [
    siameseim_pretrain(
        'siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py',
        1600),
    siameseim_pretrain(
        'siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-400e_in1k.py',
        400),
    siameseim_pretrain(
        'siameseim/'
        'siameseim_vit-large-p16_32xb128-fsdp-amp-coslr-1600e_in1k.py', 1600),
    conmim_pretrain(
        'conmim/conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py', 800),
    conmim_pretrain(
        'conmim/conmim_vit-small-p16_32xb64-amp-coslr-300e_in1k.py', 300),
    conmim_pretrain(
        'conmim/conmim_vit-large-p16_32xb64-amp-coslr-800e_in1k.py', 800),
    conmim_pretrain(
        'conmim/conmim_vit-large-p16_32xb64-amp-coslr-1600e_in1k.py', 1600),
    conmim_pretrain(
        'conmim/conmim_vit-large-p16_32xb64-fsdp-amp-coslr-1600e_in1k.py',
        1600),
    mulan_lars('mulan/mulan-byol_resnet50_4xb256-coslr-200e_in1k.py'),
    mulan_lars('mulan/mulan-byol_resnet50_8xb128-coslr-800e_in1k.py',
               epochs=800),
    mulan_lars(
        'mulan/mulan-byol-shared-predictor_resnet50_4xb256-coslr-200e_in1k.py'
    ),
    mulan_lars('mulan/mulan-mocov3_resnet50_4xb256-coslr-200e_in1k.py'),
    Recipe('mulan/mulan-simsiam_resnet50_4xb128-coslr-200e_in1k.py', 512,
           200, 0.05 * 512 / 256, 1e-4, lambda name, param: False,
           floor_ratio=1e-3, per_epoch=True,
           fixed_lr=lambda name: '.predictors.' in name, target_keep='copy',
           optimizer='SGD'),
    mulan_vit('mulan/mulan-byol_vit-small-p16_4xb256-amp-coslr-200e_in1k.py'),
    mulan_vit('mulan/mulan-byol_vit-base-p16_4xb256-amp-coslr-200e_in1k.py'),
    Recipe('benchmarks/classification/'
           'siameseim_vit-base-p16_8xb128-coslr-100e_in1k.py', 1024, 100,
           2.5e-4 * 1024 / 256, 0.05, no_decay_mae_finetune,
           warmup_epochs=5, floor=1e-6, layer_decay=(0.65, 12)),
    Recipe('benchmarks/classification/'
           'conmim_vit-base-p16_8xb128-coslr-100e_in1k.py', 1024, 100, 4e-3,
           0.05, no_decay_beit, warmup_epochs=20, warmup='t/(W-1)',
           floor=1e-6, layer_decay=(0.65, 12)),
    Recipe('benchmarks/classification/'
           'siameseim_vit-base-p16_8xb2048-linear-coslr-90e_in1k.py', 16384,
           90, 0.1 * 16384 / 256, 0., flat, warmup_epochs=10,
           optimizer='LARSMoCoV3'),
    *(Recipe(f'benchmarks/classification/mulan_{encoder}_8xb64-linear-'
             'coslr-100e_in1k.py', 512, 100, 0.005, 0., flat,
             per_epoch=True, optimizer='SGD')
      for encoder in ('resnet50', 'vit-small-p16')),
]
IDS = [osp.basename(r.config)[:-3] for r in RECIPES]


def load(recipe):
    register_all_modules(init_default_scope=False)
    return Config.fromfile(recipe.path)


def build(cfg):
    """The config's model and real optimizer wrapper. Transformers build on
    the meta device (shapes without memory: a ViT-L in a second); mmcv's
    ResNet init reads values, so ResNets build on the CPU."""
    device = 'cpu' if cfg.model.backbone.type.endswith('ResNet') else 'meta'
    with DefaultScope.overwrite_default_scope(cfg.default_scope), \
            torch.device(device):
        model = MODELS.build(cfg.model)
        return model, build_optim_wrapper(model, cfg.optim_wrapper)


class ScheduleRun:
    """The schedule half of mmengine's training loop: the config's
    parameter schedulers, built as ``Runner.build_param_scheduler`` builds
    them (``end`` defaults to the run's end, epoch-based ones converted
    with ``epoch_length``), stepped by mmengine's ``ParamSchedulerHook``
    after every iteration and epoch, with the config's custom hooks before
    every epoch and iteration. The optimizer holds one parameter group per
    distinct group of the real wrapper (same lr, ``fix_lr`` and base lr):
    the schedulers act on each group alone."""

    def __init__(self, cfg, wrapper, epoch_length):
        groups = {}
        for group in wrapper.param_groups:
            key = (group['lr'], bool(group.get('fix_lr', False)))
            groups.setdefault(key, dict(
                params=[nn.Parameter(torch.zeros(1))], lr=key[0],
                fix_lr=key[1]))
        base_lr = wrapper.optimizer.defaults['lr']
        self.optim_wrapper = OptimWrapper(
            torch.optim.SGD(list(groups.values()), lr=base_lr))
        self.epoch_length = epoch_length
        self.max_epochs = cfg.train_cfg.max_epochs
        with DefaultScope.overwrite_default_scope(cfg.default_scope):
            self.param_schedulers = [
                PARAM_SCHEDULERS.build(
                    dict(dict(end=self.max_epochs)
                         if s.get('by_epoch', True) else
                         dict(end=self.max_epochs * epoch_length), **s),
                    default_args=dict(
                        optimizer=self.optim_wrapper,
                        epoch_length=epoch_length))
                for s in cfg.param_scheduler
            ]
            self.hooks = [HOOKS.build(h) for h in cfg.get('custom_hooks', [])]
        self.hooks.append(ParamSchedulerHook())

    def lrs(self):
        """(iterations, groups) lr used by every optimizer step, and the
        initial lr of each group."""
        rows = []
        for _ in range(self.max_epochs):
            for hook in self.hooks:
                hook.before_train_epoch(self)
            for batch_idx in range(self.epoch_length):
                for hook in self.hooks:
                    hook.before_train_iter(self, batch_idx)
                rows.append(
                    [g['lr'] for g in self.optim_wrapper.param_groups])
                for hook in self.hooks:
                    hook.after_train_iter(self, batch_idx)
            for hook in self.hooks:
                hook.after_train_epoch(self)
        initial = [g['initial_lr'] for g in self.optim_wrapper.param_groups]
        fixed = [g.get('fix_lr', False)
                 for g in self.optim_wrapper.param_groups]
        return np.array(rows), np.array(initial), np.array(fixed)


def effective_weight_decay(recipe, name, param, group):
    """The decay a step applies: LARSMoCoV3 skips it on flat parameters."""
    if recipe.optimizer == 'LARSMoCoV3' and param.ndim <= 1:
        return 0.
    return group['weight_decay']


@pytest.fixture(scope='module', params=RECIPES, ids=IDS)
def built(request):
    recipe = request.param
    cfg = load(recipe)
    model, wrapper = build(cfg)
    return recipe, cfg, model, wrapper


def test_every_paper_config_has_a_recipe():
    """A new paper config must get its row here."""
    paper = {
        osp.relpath(p, osp.join(REPO, 'configs'))
        for pattern in ('siameseim/*_in1k.py', 'conmim/*_in1k.py',
                        'mulan/*_in1k.py',
                        'benchmarks/classification/*coslr*_in1k.py')
        for p in __import__('glob').glob(osp.join(REPO, 'configs', pattern))
    }
    assert paper == {r.config for r in RECIPES}


def test_optimizer_batch_and_epochs(built):
    recipe, cfg, _, wrapper = built
    assert type(wrapper.optimizer).__name__ == recipe.optimizer
    assert wrapper.optimizer.defaults['lr'] == pytest.approx(recipe.peak)
    per_gpu = int(re.search(r'_(\d+)xb(\d+)', recipe.config).group(2))
    gpus = int(re.search(r'_(\d+)xb', recipe.config).group(1))
    assert cfg.train_dataloader.batch_size == per_gpu
    assert gpus * per_gpu == recipe.batch
    assert cfg.train_cfg.max_epochs == recipe.epochs


def test_every_parameter_lr_and_weight_decay(built):
    recipe, _, model, wrapper = built
    group_of = {
        id(p): group
        for group in wrapper.param_groups for p in group['params']
    }
    trainable = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
    assert trainable
    wrong = []
    for name, param in trainable:
        group = group_of[id(param)]
        lr = recipe.peak * recipe.lr_scale(name)
        decay = 0. if recipe.no_decay(name, param) else recipe.weight_decay
        got_decay = effective_weight_decay(recipe, name, param, group)
        if not (math.isclose(group['lr'], lr, rel_tol=1e-9)
                and math.isclose(got_decay, decay, rel_tol=1e-9)
                and bool(group.get('fix_lr')) == recipe.fixed_lr(name)):
            wrong.append(f"{name}: lr {group['lr']:.4g} (official {lr:.4g})"
                         f', wd {got_decay:g} (official {decay:g})')
    assert not wrong, '\n'.join(wrong[:20])


# The ImageNet-1k counts step up to a million iterations per config (about
# a minute in all): `make test-all`.
@pytest.mark.parametrize(
    'epoch_length',
    ['small', pytest.param('imagenet', marks=pytest.mark.slow)])
def test_lr_of_every_group_at_every_iteration(built, epoch_length):
    recipe, cfg, _, wrapper = built
    epoch_length = SMALL_EPOCH if epoch_length == 'small' else \
        IMAGENET_TRAIN_IMAGES // recipe.batch
    got, initial, fixed = ScheduleRun(cfg, wrapper, epoch_length).lrs()
    official = recipe.lr(epoch_length)
    for column, (peak, is_fixed) in enumerate(zip(initial, fixed)):
        scale = peak / recipe.peak
        expected = np.full_like(official, peak) if is_fixed else \
            scale * official
        error = np.abs(got[:, column] - expected)
        worst = int(error.argmax())
        assert error[worst] <= 1e-7 * peak, (
            f'group of scale {scale:.3g}: iteration {worst} of '
            f'{len(official)} has lr {got[worst, column]:.6g}, the official '
            f'{expected[worst]:.6g}')


@pytest.mark.parametrize(
    'epoch_length',
    ['small', pytest.param('imagenet', marks=pytest.mark.slow)])
def test_target_momentum_at_every_iteration(built, epoch_length):
    recipe, cfg, model, _ = built
    if recipe.target_keep is None:
        assert not hasattr(model, 'target')
        return
    total = recipe.epochs * (SMALL_EPOCH if epoch_length == 'small' else
                             IMAGENET_TRAIN_IMAGES // recipe.batch)
    MessageHub.get_current_instance().update_info('max_iters', total)
    got = np.array([model.target.current_momentum(k) for k in range(total)])
    np.testing.assert_allclose(got, recipe.target_momentum(total),
                               rtol=0, atol=1e-12)


def scaled_lr_config(recipe, total_batch):
    """The config as ``--auto-scale-lr`` leaves it for ``total_batch``
    (mmengine's ``Runner.scale_lr``: lr x batch / base_batch_size)."""
    cfg = load(recipe)
    ratio = total_batch / cfg.auto_scale_lr.base_batch_size
    cfg.optim_wrapper.optimizer.lr *= ratio
    return cfg


def test_simsiam_predictor_lr_follows_auto_scale_lr():
    """At batch 256 the official predictor lr is 0.05 x 256 / 256."""
    recipe = next(r for r in RECIPES if 'simsiam' in r.config)
    cfg = scaled_lr_config(recipe, 256)
    _, wrapper = build(cfg)
    got, initial, fixed = ScheduleRun(cfg, wrapper, SMALL_EPOCH).lrs()
    assert fixed.any()
    np.testing.assert_allclose(got[:, fixed], 0.05, rtol=1e-12)
    np.testing.assert_allclose(
        got[:, ~fixed][:, 0], recipe.lr(SMALL_EPOCH, peak=0.05), rtol=1e-9)


def test_auto_scale_lr_keeps_the_layerwise_floor():
    """The fine-tuning floor ``min_lr * scale`` is absolute: scaling the
    batch scales the peak, not the floor."""
    recipe = next(r for r in RECIPES if r.layer_decay)
    cfg = scaled_lr_config(recipe, 512)
    _, wrapper = build(cfg)
    got, initial, _ = ScheduleRun(cfg, wrapper, SMALL_EPOCH).lrs()
    scales = initial / (recipe.peak / 2)
    np.testing.assert_allclose(got[-1], scales * recipe.lr(
        SMALL_EPOCH, peak=recipe.peak / 2)[-1], rtol=1e-7)


FINE_TUNE_SCALERS = {
    # torch's GradScaler defaults (MAE's NativeScaler)
    'siameseim_vit-base-p16_8xb128-coslr-100e_in1k': (2.**16, 2000),
    # DeepSpeed fp16: initial_scale_power 7, loss_scale_window 128
    'conmim_vit-base-p16_8xb128-coslr-100e_in1k': (2.**7, 128),
}


@pytest.mark.parametrize('name', sorted(FINE_TUNE_SCALERS))
def test_fine_tuning_runs_fp16_with_the_official_loss_scale(name):
    recipe = RECIPES[IDS.index(name)]
    cfg = load(recipe)
    assert cfg.optim_wrapper.type.split('.')[-1] == 'AnyDeviceAmpOptimWrapper'
    assert cfg.optim_wrapper.get('dtype') is None  # fp16 on GPUs
    assert 'clip_grad' not in cfg.optim_wrapper  # none in either code
    model = nn.Linear(2, 2)
    # The GPU recipe's scaler, built on the CPU with its fp16 option.
    wrapper = AnyDeviceAmpOptimWrapper(
        optimizer=torch.optim.AdamW(model.parameters()), dtype='float16',
        loss_scale=cfg.optim_wrapper.get('loss_scale', 'dynamic'))
    scale, interval = FINE_TUNE_SCALERS[name]
    assert wrapper.loss_scaler.get_scale() == scale
    assert wrapper.loss_scaler.get_growth_interval() == interval


CONFIGS = sorted(
    p for p in __import__('glob').glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_auto_scale_lr_base_is_the_recipe_batch(path):
    """``base_batch_size`` is the batch the config's lr is given for: the
    ``{N}xb{B}`` of its name."""
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(path)
    if 'optim_wrapper' not in cfg:  # feature extraction (logistic reg.)
        return
    # `make demo`'s config is the MoCo v3 demo under a short name.
    named = demo_config('mulan-mocov3') if path == DEMO_PRETRAIN_CONFIG \
        else path
    batch = re.search(r'_(\d+)xb(\d+)', osp.basename(named))
    assert batch, f'{path}: the name gives no N x B batch'
    assert cfg.auto_scale_lr.base_batch_size == \
        int(batch.group(1)) * int(batch.group(2))


def lars_official_steps(params, grads, lr, weight_decay, eta, momentum):
    """MoCo v3 / MAE / MULAN's LARS, written from the specs."""
    params = [p.clone() for p in params]
    buffers = [torch.zeros_like(p) for p in params]
    for step_grads, step_lr in zip(grads, lr):
        for p, g, mu in zip(params, step_grads, buffers):
            d = g.clone()
            if p.ndim > 1:
                d = d + weight_decay * p
                pn, dn = p.norm(), d.norm()
                q = eta * pn / dn if pn > 0 and dn > 0 else 1.
                d = d * q
            mu.mul_(momentum).add_(d)
            p.sub_(step_lr * mu)
    return params


def test_lars_follows_the_official_update():
    """Three steps under a warm-up lr, with weight decay, on a matrix and
    a bias; mmpretrain's LARS puts lr inside the momentum buffer and
    differs."""
    torch.manual_seed(0)
    params = [torch.randn(8, 4, dtype=torch.float64),
              torch.randn(8, dtype=torch.float64)]
    grads = [[torch.randn_like(p) for p in params] for _ in range(3)]
    lrs = [0.0, 0.8, 1.6]
    expected = lars_official_steps(params, grads, lrs, 0.01, 0.001, 0.9)
    model = [nn.Parameter(p.clone()) for p in params]
    optimizer = LARSMoCoV3(model, lr=lrs[0], momentum=0.9,
                           weight_decay=0.01, eta=0.001)
    for step_grads, lr in zip(grads, lrs):
        for p, g in zip(model, step_grads):
            p.grad = g.clone()
        optimizer.param_groups[0]['lr'] = lr
        optimizer.step()
    for got, want in zip(model, expected):
        torch.testing.assert_close(got.detach(), want, rtol=1e-12,
                                   atol=1e-14)
