"""Every mmdet benchmark config, run for real on CPU: a checkpoint in
mmsiam's pretraining layout, exported with extract_backbone.py, trains 2
iterations on tiny COCO / LVIS and is evaluated by CocoMetric / LVISMetric.
ViT configs use the tiny SiameseIM run; ResNet configs a ResNet-50 written
in the same layout (until a ResNet method lands)."""
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from helpers.benchmark_overrides import (pretrained, small_images, tiny_data,
                                         tiny_vitdet)
from helpers import REPO, run_tool

BENCHMARKS = osp.join(REPO, 'configs', 'benchmarks', 'mmdet')
TRAIN = osp.join(REPO, 'tools', 'train.py')
DIST_TRAIN = osp.join(REPO, 'tools', 'benchmarks', 'mmdet', 'dist_train.sh')
COCO_ANN = 'annotations/instances_val2017.json'
LVIS_ANN = 'annotations/lvis_v1_val.json'
CASES = {
    'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py':
    ('vit', 'coco', COCO_ANN, 'coco/segm_mAP'),
    'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_lvis-v1.py':
    ('vit', 'lvis_v1', LVIS_ANN, 'lvis/segm_APr'),
    'mask-rcnn_r50-fpn_8xb2-1x_coco.py':
    ('resnet', 'coco', COCO_ANN, 'coco/segm_mAP'),
    'mask-rcnn_r50-fpn_8xb2-sample1e-3-ms-1x_lvis-v1.py':
    ('resnet', 'lvis_v1', LVIS_ANN, 'lvis/segm_APr'),
}


@pytest.fixture(scope='session')
def resnet_checkpoint(tmp_path_factory):
    """A ResNet-50 in mmsiam's pretraining layout, exported."""
    from mmpretrain.models import ResNet
    folder = tmp_path_factory.mktemp('resnet')
    weights = ResNet(depth=50).state_dict()
    state = {f'backbone.{k}': v for k, v in weights.items()}
    state.update({f'target.module.0.{k}': v.clone()
                  for k, v in weights.items()})
    torch.save({'state_dict': state, 'meta': {}}, folder / 'pretrain.pth')
    run_tool([osp.join(REPO, 'tools', 'model_converters',
                       'extract_backbone.py'), folder / 'pretrain.pth',
              folder / 'backbone.pth'])
    return folder / 'backbone.pth'


def test_every_config_is_covered():
    shipped = {p for p in __import__('os').listdir(BENCHMARKS)
               if p.endswith('.py')}
    assert shipped == set(CASES)


def _tiny_config(name, tmp_path, tiny_benchmarks, checkpoint):
    kind, data, ann, _ = CASES[name]
    cfg = Config.fromfile(osp.join(BENCHMARKS, name))
    small_images(cfg)
    if kind == 'vit':
        tiny_vitdet(cfg, checkpoint)
    else:  # the config's own ResNet-50
        cfg.model.backbone.init_cfg = pretrained(checkpoint)
    tiny_data(cfg, tiny_benchmarks / data, ann)
    path = tmp_path / name
    cfg.dump(str(path))
    return path


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CASES))
def test_pretrained_model_trains_and_evaluates(name, tmp_path,
                                               tiny_benchmarks,
                                               backbone_checkpoint,
                                               resnet_checkpoint):
    kind, _, _, metric = CASES[name]
    checkpoint = backbone_checkpoint if kind == 'vit' else resnet_checkpoint
    config = _tiny_config(name, tmp_path, tiny_benchmarks, checkpoint)
    out = run_tool([TRAIN, config, '--work-dir', tmp_path / 'wd'],
                   timeout=900).stdout
    assert re.search(r'\w+: loaded \d+ pretrained tensors', out)
    assert re.search(r'\(train\) +(\[\d+\])?\[2/2\].*loss: [0-9.]+', out)
    assert re.search(re.escape(metric) + r': -?[0-9.]+', out)


@pytest.mark.slow
def test_two_cpu_processes_train_through_dist_train(tmp_path, tiny_benchmarks,
                                                   backbone_checkpoint):
    """tools/benchmarks/mmdet/dist_train.sh with 2 CPU processes (gloo):
    ViTDet Mask R-CNN on the tiny COCO set."""
    name = 'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py'
    config = _tiny_config(name, tmp_path, tiny_benchmarks,
                          backbone_checkpoint)
    out = run_tool([DIST_TRAIN, config, backbone_checkpoint, 2,
                    '--work-dir', tmp_path / 'wd'], timeout=900).stdout
    assert 'Distributed training: True' in out
    assert re.search(r'\(train\) +(\[\d+\])?\[\d+/\d+\].*loss: [0-9.]+', out)
    assert re.search(r'coco/segm_mAP: -?[0-9.]+', out)


def test_config_is_the_published_vitdet_recipe():
    cfg = Config.fromfile(osp.join(
        BENCHMARKS, 'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py'))
    assert cfg.model.backbone.window_block_indexes == (0, 1, 3, 4, 6, 7, 9,
                                                       10)
    assert cfg.optim_wrapper.paramwise_cfg.layer_decay_rate == 0.7
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.1
    assert cfg.train_cfg.max_iters == 184375
    assert cfg.model.neck.in_channels == [192, 384, 768, 768]
    lvis = Config.fromfile(osp.join(
        BENCHMARKS,
        'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_lvis-v1.py'))
    assert lvis.model.roi_head.bbox_head.num_classes == 1203
    assert lvis.train_dataloader.dataset.oversample_thr == 1e-3


@pytest.mark.slow
def test_wrong_checkpoint_fails_loudly(tmp_path, tiny_benchmarks,
                                       backbone_checkpoint):
    name = 'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py'
    config = _tiny_config(name, tmp_path, tiny_benchmarks,
                          backbone_checkpoint)
    state = torch.load(backbone_checkpoint, weights_only=True)
    del state['state_dict']['backbone.layers.1.attn.qkv.weight']
    broken = tmp_path / 'broken.pth'
    torch.save(state, broken)
    proc = run_tool([
        TRAIN, config, '--work-dir', tmp_path / 'wd', '--cfg-options',
        f'model.backbone.init_cfg.checkpoint={broken}'
    ], check=False)
    assert proc.returncode != 0
    assert 'layers.1.attn.qkv.weight' in proc.stdout
