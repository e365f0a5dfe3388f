"""The documented overrides that shrink a real benchmark config to a CPU
run of 2 iterations on the generated tiny datasets. Everything else of the
config (model, pipelines, optimizer, metric) stays as shipped."""
import os.path as osp

from mmengine.config import Config

from .paths import CONMIM_DEMO_CONFIG, DEMO_CONFIG

SIZE = (128, 128)


def demo_encoder_arch(config):
    """The ``arch`` of the encoder that a ``_demo`` config pretrains."""
    return Config.fromfile(config).model.backbone.arch.to_dict()


# The encoders of the tiny SiameseIM and ConMIM _demo pretrainings.
TINY_VIT = demo_encoder_arch(DEMO_CONFIG)
TINY_BEIT = demo_encoder_arch(CONMIM_DEMO_CONFIG)


def pretrained(checkpoint):
    return dict(type='Pretrained', checkpoint=str(checkpoint),
                prefix='backbone.')


def fp32(cfg):
    """Plain fp32 steps: mmengine's ``OptimWrapper`` without the AMP
    wrapper's options."""
    for key in ('loss_scale', 'dtype'):
        cfg.optim_wrapper.pop(key, None)
    cfg.optim_wrapper.type = 'OptimWrapper'


def small_images(cfg, size=SIZE):
    """Every resize / crop / pad of the pipelines at ``size``; fp32 (mmcv's
    CPU ops such as nms take no bfloat16)."""
    fp32(cfg)
    datasets = [cfg.train_dataloader.dataset, cfg.val_dataloader.dataset]
    for dataset in datasets:
        inner = dataset.get('dataset', dataset)
        for step in inner.pipeline:
            for key in ('scale', 'crop_size', 'size'):
                if key in step:
                    step[key] = size
            if 'scales' in step:
                step.scales = [size]
    for augment in cfg.model.data_preprocessor.get('batch_augments') or []:
        augment.size = size


def tiny_vitdet(cfg, checkpoint):
    """The tiny SiameseIM encoder (patch 8, pretrained at 64 px) in ViTDet;
    FPN scale factors keep strides 4-32. No test-time padding (a 2-iteration
    model puts boxes there, where mmdet cannot paste masks)."""
    cfg.model.backbone.update(
        arch=TINY_VIT, img_size=SIZE[0], patch_size=8, pretrain_img_size=64,
        window_size=4, window_block_indexes=(0, 2),
        init_cfg=pretrained(checkpoint))
    width = TINY_VIT['embed_dims']
    cfg.model.neck.update(backbone_channel=width,
                          in_channels=[width // 2, width, width, width],
                          scale_factors=(2, 1, 0.5, 0.25))
    val = cfg.val_dataloader.dataset
    val.pipeline = [step for step in val.pipeline if step.type != 'Pad']


def small_loaders(cfg, root, batch_size=2):
    """Train / val loaders on the tiny set at ``root``, in-process."""
    for loader in ('train_dataloader', 'val_dataloader'):
        cfg[loader].update(batch_size=batch_size, num_workers=0,
                           persistent_workers=False)
        dataset = cfg[loader].dataset
        dataset = dataset.get('dataset', dataset)
        dataset.data_root = str(root)


def tiny_data(cfg, root, val_ann):
    """Data roots of the tiny set, small loaders, 2 training iterations and
    then validation; no test-time score threshold beyond LVIS's 1e-4 (after
    2 iterations every class scores about 1 / num_classes)."""
    small_loaders(cfg, str(root) + '/')
    for dataset in (cfg.train_dataloader.dataset, cfg.val_dataloader.dataset):
        dataset = dataset.get('dataset', dataset)
        if 'filter_cfg' in dataset:
            dataset.filter_cfg.min_size = 8
    cfg.val_evaluator.ann_file = osp.join(str(root), val_ann)
    cfg.model.test_cfg.rcnn.score_thr = min(
        cfg.model.test_cfg.rcnn.score_thr, 1e-4)
    if cfg.train_cfg.type == 'IterBasedTrainLoop':
        cfg.train_cfg.update(max_iters=2, val_interval=2)
        cfg.default_hooks.checkpoint.interval = 2
    else:  # 4 tiny images at batch 2: one epoch is 2 iterations
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
