"""The ImageNet linear-probe and fine-tuning configs, run for real on CPU:
the tiny SiameseIM checkpoint's exported encoder trains 2 iterations on the
ImageNet-layout digits and Accuracy is evaluated."""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from helpers.benchmark_overrides import (TINY_BEIT, TINY_VIT, fp32, pretrained,
                                         small_loaders)
from helpers import REPO, run_tool

CLASSIFICATION = osp.join(REPO, 'configs', 'benchmarks', 'classification')
CONFIG = osp.join(CLASSIFICATION,
                  'siameseim_vit-base-p16_8xb2048-linear-coslr-90e_in1k.py')
FINETUNE = osp.join(CLASSIFICATION,
                    'siameseim_vit-base-p16_8xb128-coslr-100e_in1k.py')
CONMIM_FINETUNE = osp.join(CLASSIFICATION,
                           'conmim_vit-base-p16_8xb128-coslr-100e_in1k.py')
TRAIN = osp.join(REPO, 'tools', 'train.py')
DIST_TRAIN = osp.join(REPO, 'tools', 'benchmarks', 'classification',
                      'dist_train.sh')


@pytest.fixture(scope='module')
def tiny_imagenet(tmp_path_factory):
    out = tmp_path_factory.mktemp('cls') / 'data'
    run_tool([osp.join(REPO, 'tools', 'misc', 'make_tiny_datasets.py'), out,
              '--which', 'imagenet', '--num-train', 2, '--num-val', 1])
    return out / 'imagenet'


def shrink_for_cpu(cfg, root, checkpoint, arch=TINY_VIT):
    """Documented overrides: data root, 64-pixel crops (72 resize), the tiny
    encoder ``arch`` of the checkpoint's _demo pretraining (for the linear
    probe all 4 blocks frozen), widths, 2 iterations of batch 10, fp32."""
    fp32(cfg)
    cfg.model.backbone.update(arch=arch, img_size=64, patch_size=8,
                              init_cfg=pretrained(checkpoint))
    if cfg.model.backbone.get('frozen_stages'):
        cfg.model.backbone.frozen_stages = 4
        cfg.model.neck.input_features = arch['embed_dims']
    cfg.model.head.in_channels = arch['embed_dims']
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'RandomResizedCrop':
            step.scale = 64
    for step in cfg.val_dataloader.dataset.pipeline:
        if step.type == 'ResizeEdge':
            step.scale = 72
        if step.type == 'CenterCrop':
            step.crop_size = 64
    small_loaders(cfg, root, batch_size=10)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    return cfg


def test_config_is_the_published_protocol():
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone.out_type == 'avg_featmap'
    assert cfg.model.backbone.frozen_stages == 12
    assert cfg.model.neck.type == 'ClsBatchNormNeck'
    assert cfg.optim_wrapper.optimizer.lr == 6.4
    assert cfg.optim_wrapper.optimizer.weight_decay == 0
    assert cfg.train_dataloader.batch_size * 8 == 16384


@pytest.mark.slow
def test_linear_probe_trains_and_evaluates(tmp_path, tiny_imagenet,
                                           backbone_checkpoint):
    cfg = shrink_for_cpu(Config.fromfile(CONFIG), tiny_imagenet,
                         backbone_checkpoint)
    path = tmp_path / 'linear_tiny.py'
    cfg.dump(str(path))
    out = run_tool([TRAIN, path, '--work-dir', tmp_path / 'wd']).stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert re.search(r'Epoch\(train\) +\[1\]\[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'accuracy/top1: [0-9.]+', out)
    # Only the classifier learns: the whole encoder, its fresh norm included,
    # is frozen and left out of the optimizer.
    frozen = re.search(r'left out of the optimizer; by module: (.*)', out)
    assert frozen and re.fullmatch(r'backbone \(\d+\)', frozen[1])
    assert 'is skipped since its requires_grad=False' not in out


@pytest.mark.slow
def test_two_cpu_processes_train_through_dist_train(tmp_path, tiny_imagenet,
                                                   backbone_checkpoint):
    """tools/benchmarks/classification/dist_train.sh with 2 CPU processes
    (gloo): the linear probe."""
    cfg = shrink_for_cpu(Config.fromfile(CONFIG), tiny_imagenet,
                         backbone_checkpoint)
    path = tmp_path / 'linear_tiny.py'
    cfg.dump(str(path))
    out = run_tool([DIST_TRAIN, path, backbone_checkpoint, 2, '--work-dir',
                    tmp_path / 'wd'], timeout=900).stdout
    assert 'Distributed training: True' in out
    assert re.search(r'Epoch\(train\) +\[1\]\[\d+/\d+\].*loss: [0-9.]+', out)
    assert re.search(r'accuracy/top1: [0-9.]+', out)


def test_finetune_config_is_the_published_recipe():
    cfg = Config.fromfile(FINETUNE)
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-3)
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.65
    assert cfg.model.backbone.drop_path_rate == 0.1
    assert cfg.model.backbone.freeze_pos_embed
    assert cfg.train_cfg.max_epochs == 100


@pytest.mark.slow
def test_finetune_trains_and_evaluates(tmp_path, tiny_imagenet,
                                       backbone_checkpoint):
    cfg = shrink_for_cpu(Config.fromfile(FINETUNE), tiny_imagenet,
                         backbone_checkpoint)
    path = tmp_path / 'finetune_tiny.py'
    cfg.dump(str(path))
    out = run_tool([TRAIN, path, '--work-dir', tmp_path / 'wd']).stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert re.search(r'Epoch\(train\) +\[1\]\[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'accuracy/top1: [0-9.]+', out)
    # The position embedding stays as pretrained; the rest is fine-tuned.
    pretrained_state = torch.load(backbone_checkpoint,
                                  weights_only=True)['state_dict']
    tuned = torch.load(tmp_path / 'wd' / 'epoch_1.pth',
                       weights_only=True)['state_dict']
    assert torch.equal(tuned['backbone.pos_embed'],
                       pretrained_state['backbone.pos_embed'])
    for key in ('backbone.patch_embed.projection.weight',
                'backbone.layers.3.attn.qkv.weight'):
        assert not torch.equal(tuned[key], pretrained_state[key]), key


def test_conmim_finetune_config_is_the_published_recipe():
    cfg = Config.fromfile(CONMIM_FINETUNE)
    backbone = cfg.model.backbone
    assert backbone.type == 'mmsiam.StrictPretrainedBEiTViT'
    assert backbone.use_rel_pos_bias and not backbone.use_abs_pos_emb
    assert backbone.out_type == 'avg_featmap'
    assert backbone.drop_path_rate == 0.1
    assert cfg.optim_wrapper.optimizer.lr == 4e-3
    assert cfg.optim_wrapper.optimizer.betas == (0.9, 0.999)
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.65
    assert cfg.train_dataloader.batch_size * 8 == 1024
    assert cfg.train_cfg.max_epochs == 100
    assert cfg.param_scheduler[0].end == 20
    assert cfg.param_scheduler[1].eta_min == 1e-6
    assert cfg.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert cfg.model.head.init_cfg[0].std == 2e-5


@pytest.mark.slow
def test_conmim_finetune_trains_from_the_teacher(tmp_path, tiny_imagenet,
                                                 conmim_backbone_checkpoint):
    cfg = shrink_for_cpu(Config.fromfile(CONMIM_FINETUNE), tiny_imagenet,
                         conmim_backbone_checkpoint, arch=TINY_BEIT)
    path = tmp_path / 'conmim_finetune_tiny.py'
    cfg.dump(str(path))
    out = run_tool([TRAIN, path, '--work-dir', tmp_path / 'wd']).stdout
    assert 'StrictPretrainedBEiTViT: loaded' in out
    assert re.search(r'Epoch\(train\) +\[1\]\[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'accuracy/top1: [0-9.]+', out)
    exported = torch.load(conmim_backbone_checkpoint,
                          weights_only=True)['state_dict']
    start = torch.load(tmp_path / 'wd' / 'epoch_1.pth',
                       weights_only=True)['state_dict']
    # Per-block tables from the shared one; trained from there.
    assert 'backbone.rel_pos_bias.relative_position_bias_table' not in exported
    table = 'backbone.layers.3.attn.relative_position_bias_table'
    assert start[table].shape == exported[table].shape


@pytest.mark.slow
def test_logistic_regression_on_frozen_features(tmp_path, tiny_imagenet,
                                                backbone_checkpoint):
    import json
    config = osp.join(
        CLASSIFICATION,
        'siameseim_vit-base-p16_logistic-regression-1pct_in1k.py')
    cfg = Config.fromfile(config)
    assert cfg.logistic_regression.fraction == 0.01
    assert cfg.backbone.out_type == 'cls_token'
    tool = osp.join(REPO, 'tools', 'benchmarks', 'classification',
                    'logistic_regression.py')
    # Documented overrides: the tiny encoder, 64-pixel crops, the data root.
    cfg.backbone.update(arch=TINY_VIT, img_size=64, patch_size=8)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=10, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = str(tiny_imagenet)
        loader.dataset.pipeline[1].scale = 72
        loader.dataset.pipeline[2].crop_size = 64
    path = tmp_path / 'logistic_tiny.py'
    cfg.dump(str(path))
    out = run_tool([tool, path, backbone_checkpoint, '--work-dir', tmp_path,
                    '--fraction', 0.5]).stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert 'train features: 10/10' in out and 'val features: 10/10' in out
    results = json.loads((tmp_path / 'logistic_regression.json').read_text())
    assert results['train_images'] == 10  # half of 2 per class
    assert 0 <= results['accuracy/top1'] <= results['accuracy/top5'] <= 100
