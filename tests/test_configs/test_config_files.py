"""Every config under configs/ parses and its model builds."""
import glob
import os.path as osp

import pytest
from mmengine import DefaultScope
from mmengine.config import Config

from helpers import (CONMIM_DEMO_CONFIG, DEMO_CONFIG, MULAN_DEMO_CONFIG, REPO,
                     demo_config)
from mmsiam.checkpoint.encoder_config import encoder_arch
from mmsiam.registry import MODELS
from mmsiam.config_checks.component_keys import check_component_keys
from mmsiam.utils import register_all_modules

CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '**', '*.py'),
                         recursive=True))
TOP_CONFIGS = [p for p in CONFIGS if '_base_' not in p]


@pytest.mark.parametrize('path', CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_parses(path):
    Config.fromfile(path)


@pytest.mark.parametrize('path', TOP_CONFIGS,
                         ids=[osp.relpath(p, REPO) for p in TOP_CONFIGS])
def test_model_builds(path):
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(path)
    check_component_keys(cfg)  # every key of an mmsiam component is known
    # Feature-extraction configs (few-shot) name only their backbone.
    model_cfg = cfg.model if 'model' in cfg else cfg.backbone
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(model_cfg)
    assert sum(p.numel() for p in model.parameters()) > 0


def test_make_demo_config_is_the_mocov3_demo():
    demo = Config.fromfile(osp.join(REPO, 'configs', 'demo',
                                    'demo_pretrain.py'))
    mocov3 = Config.fromfile(
        osp.join(REPO, 'configs', 'mulan',
                 'mulan-mocov3_resnet18-w16_1xb64-coslr-3e_mnist5k_demo.py'))
    for key in ('model', 'train_dataloader', 'optim_wrapper',
                'param_scheduler', 'train_cfg', 'custom_hooks'):
        assert demo.get(key) == mocov3.get(key), key


DEMO_AND_PAPER = {
    DEMO_CONFIG:
    'siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py',
    CONMIM_DEMO_CONFIG:
    'conmim/conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py',
}
DEMO_AND_PAPER.update({
    demo_config(f'mulan-{loss}'):
    f'mulan/mulan-{loss}_resnet50_{batch}-coslr-200e_in1k.py'
    for loss, batch in (('byol', '4xb256'), ('simsiam', '4xb128'),
                        ('mocov3', '4xb256'))
})


def test_every_demo_config_is_checked():
    demos = {p for p in TOP_CONFIGS if p.endswith('_demo.py')}
    assert demos == set(DEMO_AND_PAPER) | set(BENCHMARK_DEMO_AND_PAPER) | \
        set(ABLATIONS)


def flat(value, prefix=''):
    """``{'a.b.c': leaf}`` of nested dicts (lists are leaves)."""
    if not isinstance(value, dict):
        return {prefix: value}
    out = {}
    for key, item in value.items():
        out.update(flat(item, f'{prefix}.{key}' if prefix else key))
    return out


MULAN_ABLATIONS = osp.join(REPO, 'configs', 'mulan', 'ablations')
ABLATIONS = {
    osp.join(MULAN_ABLATIONS, 'mulan-byol-shared-predictor_resnet18-w16_'
             '1xb64-coslr-5e_mnist5k_demo.py'):
    {'model.head.shared_predictor'},
    osp.join(MULAN_ABLATIONS, 'mulan-byol-global-views_resnet18-w16_'
             '1xb64-coslr-5e_mnist5k_demo.py'):
    {'model.head.tasks', 'model.head.task_weights', 'train_pipeline',
     'train_dataloader.dataset.dataset.pipeline'},
}


@pytest.mark.parametrize('ablation', ABLATIONS, ids=osp.basename)
def test_an_ablation_changes_its_demo_in_one_respect(ablation):
    """MULAN's ablations are the MULAN-BYOL demo with one change each:
    a shared predictor, or the two global views alone."""
    ours = flat(Config.fromfile(ablation).to_dict())
    demo = flat(Config.fromfile(demo_config('mulan-byol')).to_dict())
    changed = {k for k in ours.keys() | demo.keys()
               if ours.get(k) != demo.get(k)}
    assert changed == ABLATIONS[ablation]


# The paper settings a _demo config adapts to the small data (issue #17;
# each one commented in the config with its measurement, see
# docs/small_scale.md). Everything else in `paper_recipe` must match.
# The demos train in fp32 instead of the paper's AMP (bf16 autocast without
# CUDA; docs/small_scale.md, cause 8).
ADAPTED = {
    CONMIM_DEMO_CONFIG: {'optim_wrapper.type'},
    MULAN_DEMO_CONFIG: {'optim_wrapper.type'},
    demo_config('mulan-simsiam'): {'optim_wrapper.type'},
    DEMO_CONFIG: {
        'model.base_momentum', 'optim_wrapper.type',
        'optim_wrapper.optimizer.lr'
    },
    osp.join(REPO, 'configs', 'mulan',
             'mulan-mocov3_resnet18-w16_1xb64-coslr-3e_mnist5k_demo.py'): {
        'model.base_momentum', 'model.end_momentum', 'model.head.loss',
        'optim_wrapper.type', 'optim_wrapper.optimizer.type',
        'optim_wrapper.optimizer.betas', 'optim_wrapper.optimizer.momentum',
        'optim_wrapper.optimizer.weight_decay', 'optim_wrapper.paramwise_cfg'
    },
}

CLASSIFICATION = osp.join(REPO, 'configs', 'benchmarks', 'classification')
BENCHMARK_DEMO_AND_PAPER = {
    osp.join(CLASSIFICATION, f'{demo}_mnist5k-100labels_demo.py'):
    osp.join(CLASSIFICATION, f'{paper}_in1k.py')
    for demo, paper in (
        ('siameseim_vit-tiny-p8_1xb25-coslr-100e',
         'siameseim_vit-base-p16_8xb128-coslr-100e'),
        ('conmim_vit-tiny-p8_1xb25-coslr-100e',
         'conmim_vit-base-p16_8xb128-coslr-100e'),
        ('siameseim_vit-tiny-p8_1xb25-linear-coslr-90e',
         'siameseim_vit-base-p16_8xb2048-linear-coslr-90e'),
        ('mulan_resnet18-w16_1xb25-linear-coslr-100e',
         'mulan_resnet50_8xb64-linear-coslr-100e'),
        # ConMIM publishes no linear probe: SiameseIM's, on ConMIM's
        # encoder
        ('conmim_vit-tiny-p8_1xb25-linear-coslr-90e',
         'siameseim_vit-base-p16_8xb2048-linear-coslr-90e'),
        # MULAN's eval_linear.py --weights finetune
        ('mulan_resnet18-w16_1xb25-coslr-100e',
         'mulan_resnet50_8xb64-linear-coslr-100e'),
    )
}


def paper_recipe(cfg, with_lr):
    """The settings of a config that are the method's, not its size; the
    peak lr only ``with_lr`` (the ResNet demos scale it to batch 64)."""
    optim_wrapper = cfg.optim_wrapper
    recipe = {
        'model.type': cfg.model.type,
        'model.base_momentum': cfg.model.get('base_momentum'),
        'model.end_momentum': cfg.model.get('end_momentum'),
        'model.head.loss': cfg.model.head.loss,
        'custom_hooks': [h['type'] for h in cfg.get('custom_hooks', [])],
        'optim_wrapper.type': optim_wrapper.type,
        'optim_wrapper.paramwise_cfg': optim_wrapper.get('paramwise_cfg'),
        'optim_wrapper.clip_grad': optim_wrapper.get('clip_grad'),
    }
    keys = ('type', 'betas', 'momentum', 'weight_decay') + (
        ('lr', ) if with_lr else ())
    for key in keys:
        recipe[f'optim_wrapper.optimizer.{key}'] = \
            optim_wrapper.optimizer.get(key)
    return recipe


@pytest.mark.parametrize('demo_path,paper_path', DEMO_AND_PAPER.items(),
                         ids=lambda p: osp.basename(p)[:20])
def test_demo_inherits_the_paper_recipe(demo_path, paper_path):
    """_demo configs change size, data and schedule, and only the paper
    settings listed in ADAPTED."""
    demo = Config.fromfile(demo_path)
    paper = Config.fromfile(osp.join(REPO, 'configs', paper_path))
    # The SiameseIM demo started from the paper's peak lr (1e-3).
    with_lr = demo.model.type == 'SiameseIM'
    ours = paper_recipe(demo, with_lr)
    theirs = paper_recipe(paper, with_lr)
    adapted = ADAPTED.get(demo_path, set())
    assert {k for k in ours if ours[k] != theirs[k]} == adapted

# A protocol setting a demo-scale evaluation adapts, measured (the config
# says why): the linear probes' lr, for 360-400 steps instead of 7,000 to
# 250,000; ConMIM's probe reads ConMIM's encoder; MULAN's fine-tuning
# trains the encoder in train mode with a plain linear head (no
# standardisation, whose statistics go stale as the encoder trains).
BENCHMARK_ADAPTED = {
    osp.join(CLASSIFICATION, f'{name}_mnist5k-100labels_demo.py'):
    {'optim_wrapper.optimizer.lr'} | adapted
    for name, adapted in (
        ('mulan_resnet18-w16_1xb25-linear-coslr-100e', set()),
        ('siameseim_vit-tiny-p8_1xb25-linear-coslr-90e', set()),
        ('conmim_vit-tiny-p8_1xb25-linear-coslr-90e', {'model.backbone'}),
        ('mulan_resnet18-w16_1xb25-coslr-100e',
         {'model.backbone', 'model.head', 'custom_hooks'}),
    )
}


def benchmark_recipe(cfg):
    """The settings of a benchmark config that are its paper's protocol,
    not its size, data or length."""
    model = cfg.model
    backbone = {k: v for k, v in model.backbone.items()
                if k not in ('arch', 'depth', 'stem_channels',
                             'base_channels', 'img_size', 'patch_size',
                             'init_cfg', 'frozen_stages')}
    head = {k: v for k, v in model.head.items()
            if k not in ('num_classes', 'in_channels')}
    # a linear probe freezes every block (a ResNet: its 4 stages) of its
    # encoder, whatever the size; fine-tuning none (-1)
    if model.backbone.get('frozen_stages', -1) != -1:
        assert model.backbone.frozen_stages == encoder_arch(
            model.backbone.to_dict()).get('num_layers', 4)
    neck = model.get('neck')
    if neck:
        neck = {k: v for k, v in neck.items()
                if k not in ('input_features', 'in_channels')}
    return {
        'model.type': model.type,
        'model.backbone': backbone,
        'model.backbone.init_cfg.type': model.backbone.init_cfg.type,
        'model.neck': neck,
        'model.head': head,
        'model.train_cfg': model.get('train_cfg'),
        'custom_hooks': cfg.get('custom_hooks'),
        'optim_wrapper.type': cfg.optim_wrapper.type,
        'optim_wrapper.optimizer': {
            k: v for k, v in cfg.optim_wrapper.optimizer.items()
            if k != 'lr'},
        'optim_wrapper.optimizer.lr': cfg.optim_wrapper.optimizer.lr,
        'optim_wrapper.constructor': cfg.optim_wrapper.get('constructor'),
        'optim_wrapper.paramwise_cfg': cfg.optim_wrapper.get('paramwise_cfg'),
        'optim_wrapper.clip_grad': cfg.optim_wrapper.get('clip_grad'),
        'schedulers': [s['type'] for s in cfg.param_scheduler],
        'checkpoint.save_best': bool(cfg.default_hooks.checkpoint.get(
            'save_best')),
    }


@pytest.mark.parametrize('demo_path,paper_path',
                         BENCHMARK_DEMO_AND_PAPER.items(),
                         ids=lambda p: osp.basename(p)[:20])
def test_benchmark_demo_keeps_the_paper_protocol(demo_path, paper_path):
    """The demo-scale evaluation configs change the encoder's size, the
    data, the batch and the length, and train in fp32; every other setting
    of the protocol is the paper config's."""
    ours = benchmark_recipe(Config.fromfile(demo_path))
    theirs = benchmark_recipe(Config.fromfile(paper_path))
    adapted = {'optim_wrapper.type'} | BENCHMARK_ADAPTED.get(demo_path, set())
    assert {k for k in ours if ours[k] != theirs[k]} == adapted
    assert ours['optim_wrapper.type'] == 'OptimWrapper'
