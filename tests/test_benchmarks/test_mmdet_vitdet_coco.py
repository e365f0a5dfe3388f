"""The COCO ViTDet Mask R-CNN benchmark config, run for real on CPU: the
checkpoint of a tiny SiameseIM pretraining, exported with
extract_backbone.py, trains 2 iterations and is evaluated by CocoMetric."""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from conftest import REPO, run_tool

CONFIG = osp.join(REPO, 'configs', 'benchmarks', 'mmdet',
                  'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py')
TRAIN = osp.join(REPO, 'tools', 'train.py')
SIZE = (128, 128)


def shrink_for_cpu(cfg, data_root, checkpoint):
    """The documented overrides: data roots, image scale, backbone size
    (that of the tiny SiameseIM _demo: 96-d, 4 blocks, patch 8, pretrained
    at 64 px; the FPN keeps strides 4-32), iterations and loader sizes, and
    fp32 (mmcv's CPU ops such as nms take no bfloat16), no score threshold
    at test time (after 2 iterations every class scores ~1/81) and no Pad
    in the test pipeline (such a model puts boxes into the padding, where
    mmdet cannot paste masks)."""
    cfg.optim_wrapper.type = 'OptimWrapper'
    cfg.model.test_cfg.rcnn.score_thr = 0.
    cfg.model.backbone.update(
        arch=dict(embed_dims=96, num_layers=4, num_heads=3,
                  feedforward_channels=384),
        img_size=SIZE[0], patch_size=8, pretrain_img_size=64, window_size=4,
        window_block_indexes=(0, 2),
        init_cfg=dict(type='Pretrained', checkpoint=str(checkpoint),
                      prefix='backbone.'))
    cfg.model.neck.update(backbone_channel=96, in_channels=[48, 96, 96, 96],
                          scale_factors=(2, 1, 0.5, 0.25))
    cfg.model.data_preprocessor.batch_augments[0].size = SIZE
    cfg.val_dataloader.dataset.pipeline = [
        step for step in cfg.val_dataloader.dataset.pipeline
        if step.type != 'Pad'
    ]
    for step in cfg.train_dataloader.dataset.pipeline + \
            cfg.val_dataloader.dataset.pipeline:
        for key in ('scale', 'crop_size', 'size'):
            if key in step:
                step[key] = SIZE
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].update(batch_size=2, num_workers=0,
                           persistent_workers=False)
        cfg[loader].dataset.data_root = str(data_root) + '/'
    cfg.train_dataloader.dataset.filter_cfg.min_size = 8
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = str(
            data_root / 'annotations' / 'instances_val2017.json')
    cfg.train_cfg.update(max_iters=2, val_interval=2)
    cfg.default_hooks.checkpoint.interval = 2
    cfg.default_hooks.logger.interval = 1
    return cfg


@pytest.fixture
def tiny_config(tmp_path, tiny_benchmarks, backbone_checkpoint):
    cfg = shrink_for_cpu(Config.fromfile(CONFIG), tiny_benchmarks / 'coco',
                         backbone_checkpoint)
    path = tmp_path / 'coco_vitdet_tiny.py'
    cfg.dump(str(path))
    return path


def test_config_is_the_published_recipe():
    cfg = Config.fromfile(CONFIG)
    assert cfg.model.backbone.window_block_indexes == (0, 1, 3, 4, 6, 7, 9,
                                                       10)
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.7
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.1
    assert cfg.train_cfg.max_iters == 184375
    assert cfg.model.neck.in_channels == [192, 384, 768, 768]


def test_pretrained_coco_vitdet_trains_and_evaluates(tiny_config, tmp_path):
    proc = run_tool([TRAIN, tiny_config, '--work-dir', tmp_path / 'wd'],
                    timeout=900)
    out = proc.stdout
    assert 'ViTDet: loaded' in out
    assert re.search(r'Iter\(train\) \[2/2\].*loss: [0-9.]+', out)
    assert re.search(r'coco/bbox_mAP: [0-9.-]+', out)
    assert re.search(r'coco/segm_mAP: [0-9.-]+', out)


def test_wrong_checkpoint_fails_loudly(tiny_config, tmp_path,
                                       backbone_checkpoint):
    state = torch.load(backbone_checkpoint, weights_only=True)
    del state['state_dict']['backbone.layers.1.attn.qkv.weight']
    broken = tmp_path / 'broken.pth'
    torch.save(state, broken)
    proc = run_tool([
        TRAIN, tiny_config, '--work-dir', tmp_path / 'wd', '--cfg-options',
        f'model.backbone.init_cfg.checkpoint={broken}'
    ], check=False)
    assert proc.returncode != 0
    assert 'layers.1.attn.qkv.weight' in proc.stdout
