"""``--demo-scale`` shrinks each benchmark config to the encoder its
checkpoint records and the tiny sets (issue #33 item 9); the runs
themselves are in tests/test_benchmarks (slow)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, DEMO_PRETRAIN_CONFIG, REPO
from mmsiam.utils.demo_scale import DemoScaleError, apply_demo_scale

BENCHMARKS = osp.join(REPO, 'configs', 'benchmarks')


def backbone_file(tmp_path, config):
    """A backbone file whose meta records the encoder of ``config``."""
    path = tmp_path / f'{osp.basename(config)}.pth'
    backbone = Config.fromfile(config).model.backbone.to_dict()
    torch.save({'state_dict': {}, 'meta': {'backbone': backbone}}, path)
    return str(path)


def encoder_for(config):
    if 'r50' in config or 'resnet' in config:
        return DEMO_PRETRAIN_CONFIG
    return CONMIM_DEMO_CONFIG if 'beit' in config or 'conmim' in config \
        else DEMO_CONFIG


PAPER_BENCHMARKS = sorted(
    p for p in glob.glob(osp.join(BENCHMARKS, '*', '*.py'))
    if not p.endswith('_demo.py'))


@pytest.mark.parametrize('config', PAPER_BENCHMARKS, ids=osp.basename)
def test_every_benchmark_config_fits_its_demo_encoder(config, tmp_path):
    cfg = Config.fromfile(config)
    checkpoint = backbone_file(tmp_path, encoder_for(config))
    note = apply_demo_scale(cfg, checkpoint, str(tmp_path / 'tiny'))
    assert note.startswith("--demo-scale: the checkpoint's ")
    loaders = [cfg.train_dataloader, cfg.val_dataloader]
    for loader in loaders:
        dataset = loader.dataset
        while 'dataset' in dataset:
            dataset = dataset.dataset
        assert dataset.data_root.startswith(str(tmp_path / 'tiny'))
        assert loader.num_workers == 0
    if 'logistic_regression' in cfg:
        return
    backbone = cfg.model.backbone
    if encoder_for(config) == DEMO_PRETRAIN_CONFIG:
        assert (backbone.depth, backbone.base_channels) == (18, 16)
        if 'head' in cfg.model:  # classification: the pooled last stage
            assert cfg.model.head.in_channels == 128
        else:  # detection: the FPN's inputs
            assert cfg.model.neck.in_channels == [16, 32, 64, 128]
    else:
        assert backbone.arch['num_layers'] == 4 and backbone.patch_size == 8
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.train_cfg.get('max_iters', 2) == 2
    assert cfg.train_cfg.get('max_epochs', 1) == 1


def test_a_demo_scale_config_is_not_shrunk_again(tmp_path):
    config = osp.join(
        BENCHMARKS, 'classification',
        'mulan_resnet18-w16_1xb25-linear-coslr-100e_mnist5k-100labels_'
        'demo.py')
    with pytest.raises(DemoScaleError, match='is already a demo-scale config '
                       'on the built-in data; run it without --demo-scale'):
        apply_demo_scale(Config.fromfile(config),
                         backbone_file(tmp_path, DEMO_PRETRAIN_CONFIG))


def test_vitdet_neck_keeps_strides_4_to_32(tmp_path):
    cfg = Config.fromfile(osp.join(
        BENCHMARKS, 'mmdet',
        'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py'))
    apply_demo_scale(cfg, backbone_file(tmp_path, DEMO_CONFIG))
    width = 64  # the SiameseIM demo's, patch 8
    assert cfg.model.neck.scale_factors == (2, 1, 0.5, 0.25)
    assert cfg.model.neck.in_channels == [width // 2, width, width, width]
    assert cfg.model.backbone.window_block_indexes == (0, 2)
    assert cfg.val_evaluator.ann_file == (
        'data/coco/annotations/instances_val2017.json')


def test_a_checkpoint_without_an_encoder_config_is_refused(tmp_path):
    path = tmp_path / 'bare.pth'
    torch.save({'state_dict': {}}, path)
    cfg = Config.fromfile(osp.join(
        BENCHMARKS, 'mmseg',
        'upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'))
    with pytest.raises(DemoScaleError, match='export it with tools/model_'
                       'converters/extract_backbone.py'):
        apply_demo_scale(cfg, str(path))
    with pytest.raises(DemoScaleError, match='the config names none'):
        apply_demo_scale(cfg, None)
