"""The ImageNet linear-probe, fine-tuning and 1% configs, run for real on
CPU as docs/downstream.md runs them (``--demo-scale``): the tiny SiameseIM
/ ConMIM pretrainings' exported encoders on the ImageNet-layout digits of
make_tiny_datasets.py, evaluated by Accuracy."""
import json
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from helpers import REPO, run_demo_scale, run_demo_scale_launcher, run_tool

CLASSIFICATION = osp.join(REPO, 'configs', 'benchmarks', 'classification')
CONFIG = osp.join(CLASSIFICATION,
                  'siameseim_vit-base-p16_8xb2048-linear-coslr-90e_in1k.py')
FINETUNE = osp.join(CLASSIFICATION,
                    'siameseim_vit-base-p16_8xb128-coslr-100e_in1k.py')
CONMIM_FINETUNE = osp.join(CLASSIFICATION,
                           'conmim_vit-base-p16_8xb128-coslr-100e_in1k.py')
LOGISTIC = osp.join(CLASSIFICATION,
                    'siameseim_vit-base-p16_logistic-regression-1pct_in1k.py')
# One epoch of the 4 x 10 tiny training digits at batch 10.
TRAINED = r'Epoch\(train\) +\[1\]\[4/4\].*loss: [0-9.]+'


def test_config_is_the_published_protocol():
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone.out_type == 'avg_featmap'
    assert cfg.model.backbone.frozen_stages == 12
    assert cfg.model.neck.type == 'ClsBatchNormNeck'
    assert cfg.optim_wrapper.optimizer.lr == 6.4
    assert cfg.optim_wrapper.optimizer.weight_decay == 0
    assert cfg.train_dataloader.batch_size * 8 == 16384


@pytest.mark.slow
def test_linear_probe_trains_and_evaluates(tmp_path, tiny_benchmarks,
                                           backbone_checkpoint):
    out = run_demo_scale(CONFIG, backbone_checkpoint, tiny_benchmarks,
                         tmp_path / 'wd').stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert re.search(TRAINED, out)
    assert re.search(r'accuracy/top1: [0-9.]+', out)
    # Only the classifier learns: the whole encoder, its fresh norm included,
    # is frozen and left out of the optimizer.
    frozen = re.search(r'left out of the optimizer; by module: (.*)', out)
    assert frozen and re.fullmatch(r'backbone \(\d+\)', frozen[1])
    assert 'is skipped since its requires_grad=False' not in out


@pytest.mark.slow
def test_two_cpu_processes_train_through_dist_train(
        tmp_path, tiny_benchmarks, backbone_checkpoint):
    """The documented command, tools/benchmarks/classification/dist_train.sh
    CONFIG CHECKPOINT 2 --demo-scale, with 2 CPU processes (gloo): the
    linear probe."""
    out = run_demo_scale_launcher('classification', CONFIG,
                                  backbone_checkpoint, tiny_benchmarks,
                                  tmp_path / 'wd').stdout
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
def test_finetune_trains_and_evaluates(tmp_path, tiny_benchmarks,
                                       backbone_checkpoint):
    out = run_demo_scale(FINETUNE, backbone_checkpoint, tiny_benchmarks,
                         tmp_path / 'wd').stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert re.search(TRAINED, out)
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
def test_conmim_finetune_trains_from_the_teacher(tmp_path, tiny_benchmarks,
                                                 conmim_backbone_checkpoint):
    out = run_demo_scale(CONMIM_FINETUNE, conmim_backbone_checkpoint,
                         tiny_benchmarks, tmp_path / 'wd').stdout
    assert 'StrictPretrainedBEiTViT: loaded' in out
    assert re.search(TRAINED, out)
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
def test_logistic_regression_on_frozen_features(tmp_path, tiny_benchmarks,
                                                backbone_checkpoint):
    cfg = Config.fromfile(LOGISTIC)
    assert cfg.logistic_regression.fraction == 0.01
    assert cfg.backbone.out_type == 'cls_token'
    tool = osp.join(REPO, 'tools', 'benchmarks', 'classification',
                    'logistic_regression.py')
    out = run_tool([tool, LOGISTIC, backbone_checkpoint, '--demo-scale',
                    tiny_benchmarks, '--work-dir', tmp_path,
                    '--fraction', 0.5]).stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert 'train features: 20/20' in out and 'val features: 30/30' in out
    results = json.loads((tmp_path / 'logistic_regression.json').read_text())
    assert results['train_images'] == 20  # half of 4 per class
    assert 0 <= results['accuracy/top1'] <= results['accuracy/top5'] <= 100
