"""Every mmdet benchmark config, run for real on CPU as docs/downstream.md
runs it (``--demo-scale``): a tiny ``_demo`` pretraining's export trains 2
iterations on tiny COCO / LVIS and is evaluated by CocoMetric / LVISMetric.
ViT configs take the SiameseIM demo's encoder, ResNet configs the width-16
ResNet-18 of ``make demo`` (MULAN)."""
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

from helpers import REPO, run_demo_scale, run_demo_scale_launcher

BENCHMARKS = osp.join(REPO, 'configs', 'benchmarks', 'mmdet')
CASES = {
    'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py':
    ('vit', 'coco/segm_mAP'),
    'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_lvis-v1.py':
    ('vit', 'lvis/segm_APr'),
    'mask-rcnn_r50-fpn_8xb2-1x_coco.py': ('resnet', 'coco/segm_mAP'),
    'mask-rcnn_r50-fpn_8xb2-sample1e-3-ms-1x_lvis-v1.py':
    ('resnet', 'lvis/segm_APr'),
}
VITDET_COCO = osp.join(
    BENCHMARKS, 'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py')


def test_every_config_is_covered():
    shipped = {p for p in os.listdir(BENCHMARKS) if p.endswith('.py')}
    assert shipped == set(CASES)


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(CASES))
def test_pretrained_model_trains_and_evaluates(name, tmp_path,
                                               tiny_benchmarks,
                                               backbone_checkpoint,
                                               mulan_backbone_checkpoint):
    kind, metric = CASES[name]
    checkpoint = (backbone_checkpoint
                  if kind == 'vit' else mulan_backbone_checkpoint)
    out = run_demo_scale(osp.join(BENCHMARKS, name), checkpoint,
                         tiny_benchmarks, tmp_path / 'wd').stdout
    assert re.search(r'--demo-scale: the checkpoint\'s .*128-pixel images',
                     out)
    assert re.search(r'\w+: loaded \d+ pretrained tensors', out)
    assert re.search(r'\(train\) +(\[\d+\])?\[2/2\].*loss: [0-9.]+', out)
    assert re.search(re.escape(metric) + r': -?[0-9.]+', out)


@pytest.mark.slow
def test_two_cpu_processes_train_through_dist_train(
        tmp_path, tiny_benchmarks, backbone_checkpoint):
    """The documented command, tools/benchmarks/mmdet/dist_train.sh
    CONFIG CHECKPOINT 2 --demo-scale, with 2 CPU processes (gloo): ViTDet
    Mask R-CNN on the tiny COCO set."""
    out = run_demo_scale_launcher('mmdet', VITDET_COCO, backbone_checkpoint,
                                  tiny_benchmarks, tmp_path / 'wd').stdout
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
    state = torch.load(backbone_checkpoint, weights_only=True)
    del state['state_dict']['backbone.layers.1.attn.qkv.weight']
    broken = tmp_path / 'broken.pth'
    torch.save(state, broken)
    proc = run_demo_scale(VITDET_COCO, broken, tiny_benchmarks,
                          tmp_path / 'wd', check=False)
    assert proc.returncode != 0
    assert 'layers.1.attn.qkv.weight' in proc.stdout


@pytest.mark.slow
def test_demo_scale_refuses_an_encoder_of_another_kind(
        tmp_path, tiny_benchmarks, mulan_backbone_checkpoint):
    proc = run_demo_scale(VITDET_COCO, mulan_backbone_checkpoint,
                          tiny_benchmarks, tmp_path / 'wd', check=False)
    assert proc.returncode != 0
    assert ('the checkpoint holds a ResNet encoder and the config a '
            'mmsiam.ViTDet' in proc.stdout)
