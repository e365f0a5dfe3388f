"""The ADE20k UperNet benchmark configs, run for real on CPU: the tiny
SiameseIM / ConMIM checkpoints' exported backbones, 2 iterations,
IoUMetric."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from helpers import REPO, run_tool
from helpers.benchmark_overrides import TINY_BEIT, TINY_VIT, small_loaders

CONFIG = osp.join(REPO, 'configs', 'benchmarks', 'mmseg',
                  'upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py')
BEIT_CONFIG = osp.join(REPO, 'configs', 'benchmarks', 'mmseg',
                       'upernet_beit-base-p16_8xb2-amp-160k_ade20k-512x512.py')
TRAIN = osp.join(REPO, 'tools', 'train.py')
DIST_TRAIN = osp.join(REPO, 'tools', 'benchmarks', 'mmseg', 'dist_train.sh')
CROP = (64, 64)


def shrink_for_cpu(cfg, data_root, checkpoint, arch=TINY_VIT, crop=CROP):
    """Documented overrides: data roots, crop size (64 by default), the
    tiny pretrained backbone ``arch`` of the checkpoint's _demo pretraining
    (4 blocks, patch 8, pretrained at 64 pixels, its features 0-3), head
    widths, 2 iterations, loader sizes and fp32."""
    width = arch['embed_dims']
    cfg.optim_wrapper.type = 'OptimWrapper'
    cfg.model.data_preprocessor.size = crop
    cfg.model.backbone.update(
        arch=arch, img_size=crop[0], patch_size=8, out_indices=(0, 1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint),
                      prefix='backbone.'))
    cfg.model.neck.embed_dim = width
    cfg.model.decode_head.update(in_channels=[width] * 4, channels=32)
    cfg.model.auxiliary_head.update(in_channels=width, channels=32)
    cfg.model.test_cfg.update(crop_size=crop, stride=(42, 42))
    for step in cfg.train_dataloader.dataset.pipeline:
        if step.type == 'RandomResize':
            step.scale = (4 * crop[0], crop[0])
        if step.type == 'RandomCrop':
            step.crop_size = crop
    for step in cfg.val_dataloader.dataset.pipeline:
        if step.type == 'Resize':
            step.scale = (4 * crop[0], crop[0])
    small_loaders(cfg, data_root)
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    return cfg


def test_config_is_the_published_recipe():
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone.out_indices == (3, 5, 7, 11)
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.65
    assert cfg.train_cfg.max_iters == 160000
    assert cfg.model.test_cfg.mode == 'slide'
    assert cfg.model.test_cfg.stride == (341, 341)


def tiny_upernet(tmp_path, tiny_benchmarks, checkpoint):
    """The UperNet config shrunk for CPU on the tiny ADE20k set, dumped."""
    cfg = shrink_for_cpu(
        Config.fromfile(CONFIG),
        tiny_benchmarks / 'ade' / 'ADEChallengeData2016', checkpoint)
    path = tmp_path / 'ade_upernet_tiny.py'
    cfg.dump(str(path))
    return path


@pytest.mark.slow
def test_pretrained_upernet_trains_and_evaluates(tmp_path, tiny_benchmarks,
                                                 backbone_checkpoint):
    path = tiny_upernet(tmp_path, tiny_benchmarks, backbone_checkpoint)
    out = run_tool([TRAIN, path, '--work-dir', tmp_path / 'wd'],
                   timeout=900).stdout
    assert 'StrictPretrainedViT: loaded' in out
    assert re.search(r'Iter\(train\) \[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'mIoU: [0-9.]+', out)


@pytest.mark.slow
def test_two_cpu_processes_train_through_dist_train_with_sync_bn(
        tmp_path, tiny_benchmarks, backbone_checkpoint):
    """The README's launcher on a machine without CUDA: the inherited
    mmseg config puts torch's GPU-only SyncBatchNorm in the heads and, by
    the module's default, in the neck (``neck.upsample_4x.1``); the CPU
    run synchronises them over gloo as AnyDeviceSyncBatchNorm."""
    path = tiny_upernet(tmp_path, tiny_benchmarks, backbone_checkpoint)
    out = run_tool([DIST_TRAIN, path, backbone_checkpoint, 2, '--work-dir',
                    tmp_path / 'wd'], timeout=900).stdout
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
    cfg = shrink_for_cpu(
        Config.fromfile(BEIT_CONFIG),
        tiny_benchmarks / 'ade' / 'ADEChallengeData2016',
        conmim_backbone_checkpoint, arch=TINY_BEIT, crop=(128, 128))
    path = tmp_path / 'ade_beit_tiny.py'
    cfg.dump(str(path))
    out = run_tool([TRAIN, path, '--work-dir', tmp_path / 'wd'],
                   timeout=900).stdout
    assert 'StrictPretrainedBEiTViT: loaded' in out
    assert 'Resize the relative_position_bias_table' in out
    assert re.search(r'Iter\(train\) \[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'mIoU: [0-9.]+', out)
