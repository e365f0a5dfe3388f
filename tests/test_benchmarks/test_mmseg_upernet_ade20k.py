"""The ADE20k UperNet benchmark configs, run for real on CPU as
docs/downstream.md runs them (``--demo-scale``): the tiny SiameseIM /
ConMIM pretrainings' exported backbones, 2 iterations at 128 pixels,
IoUMetric."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from helpers import REPO, run_demo_scale, run_demo_scale_launcher

CONFIG = osp.join(REPO, 'configs', 'benchmarks', 'mmseg',
                  'upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py')
BEIT_CONFIG = osp.join(REPO, 'configs', 'benchmarks', 'mmseg',
                       'upernet_beit-base-p16_8xb2-amp-160k_ade20k-512x512.py')


def test_config_is_the_published_recipe():
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone.out_indices == (3, 5, 7, 11)
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.65
    assert cfg.train_cfg.max_iters == 160000
    assert cfg.model.test_cfg.mode == 'slide'
    assert cfg.model.test_cfg.stride == (341, 341)


@pytest.mark.slow
def test_pretrained_upernet_trains_and_evaluates(tmp_path, tiny_benchmarks,
                                                 backbone_checkpoint):
    out = run_demo_scale(CONFIG, backbone_checkpoint, tiny_benchmarks,
                         tmp_path / 'wd').stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert re.search(r'Iter\(train\) \[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'mIoU: [0-9.]+', out)


@pytest.mark.slow
def test_two_cpu_processes_train_through_dist_train_with_sync_bn(
        tmp_path, tiny_benchmarks, backbone_checkpoint):
    """The documented command, tools/benchmarks/mmseg/dist_train.sh CONFIG
    CHECKPOINT 2 --demo-scale, on a machine without CUDA: the inherited
    mmseg config puts torch's GPU-only SyncBatchNorm in the heads and, by
    the module's default, in the neck (``neck.upsample_4x.1``); the CPU
    run synchronises them over gloo as AnyDeviceSyncBatchNorm."""
    out = run_demo_scale_launcher('mmseg', CONFIG, backbone_checkpoint,
                                  tiny_benchmarks, tmp_path / 'wd').stdout
    assert re.search(r'\d+ SyncBatchNorm layers synchronise over the process '
                     'group as AnyDeviceSyncBatchNorm', out)
    assert 'Distributed training: True' in out
    assert re.search(r'Iter\(train\) \[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'mIoU: [0-9.]+', out)


def test_beit_config_is_the_beit_recipe():
    cfg = Config.fromfile(BEIT_CONFIG)
    backbone = cfg.model.backbone
    assert backbone.type == 'mmsiam.StrictPretrainedBEiTViT'
    assert backbone.use_rel_pos_bias and not backbone.use_abs_pos_emb
    assert backbone.out_indices == (3, 5, 7, 11)
    assert cfg.optim_wrapper.optimizer.lr == 7e-4
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.65
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys[
        'relative_position_bias_table'] == dict(decay_mult=0.)
    assert cfg.model.test_cfg.stride == (341, 341)


@pytest.mark.slow
def test_conmim_teacher_in_beit_upernet(tmp_path, tiny_benchmarks,
                                        conmim_backbone_checkpoint):
    """128-pixel crops: the 8x8-grid tables are resized to 16x16."""
    out = run_demo_scale(BEIT_CONFIG, conmim_backbone_checkpoint,
                         tiny_benchmarks, tmp_path / 'wd').stdout
    assert 'StrictPretrainedBEiTViT: loaded' in out
    assert 'Resize the relative_position_bias_table' in out
    assert re.search(r'Iter\(train\) \[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'mIoU: [0-9.]+', out)
