"""``--demo-scale``: a paper benchmark config shrunk to a CPU run of a few
iterations, so that each documented downstream command runs as written
on a laptop before it runs on a cluster.

What changes, and nothing else (model, heads, pipelines, optimizer,
schedule shapes and metrics stay as shipped):

* the encoder takes the size recorded in the checkpoint
  (:func:`mmsiam.checkpoint.encoder_config.encoder_config_of`: a
  ``_demo`` pretraining's 4-block ViT or width-16 ResNet-18), and the
  necks and heads its widths;
* the data are the tiny sets that ``tools/misc/make_tiny_datasets.py
  DATA_DIR`` writes in the configs' layouts: every ``data/...`` path is
  read under ``DATA_DIR``;
* images: classification at the encoder's pretraining size (a ResNet's
  at the 64 pixels of the ``_demo`` views), detection and segmentation at
  128 pixels;
* 2 iterations (iteration-based runs) or 1 epoch, then validation; batch 2
  (classification 10), in-process loading, a log line per iteration, fp32
  (mmcv's CPU detection ops take no bfloat16).

Fitting the schedulers to the shortened run is left to
:func:`mmsiam.config_checks.fit_schedulers_to_run`, which prints what it
does.
"""
import math
import os.path as osp
from typing import List, Optional

from mmengine.config import Config, ConfigDict

from mmsiam.checkpoint.encoder_config import encoder_arch, encoder_config_of

DATA_PREFIX = 'data/'
SHORT_RUN_ITERS = 2
DENSE_SIZE = 128
RESNET_CLASSIFICATION_SIZE = 64
CLASSIFICATION_BATCH = 10
DENSE_BATCH = 2
RESNET_FAMILY = ('ResNet', 'ResNetV1c', 'ResNetV1d')


class DemoScaleError(ValueError):
    """``--demo-scale`` cannot fit the config to the checkpoint."""


def load_encoder_config(checkpoint: Optional[str]) -> dict:
    """The encoder config recorded in ``checkpoint`` (see module doc);
    an error that says what to do when there is none."""
    if not checkpoint:
        raise DemoScaleError(
            '--demo-scale fits the encoder to its checkpoint, and the config '
            'names none: run it through tools/benchmarks/<family>/'
            'dist_train.sh CONFIG CHECKPOINT N --demo-scale, or add '
            '--cfg-options model.backbone.init_cfg.checkpoint=CHECKPOINT')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'--demo-scale: checkpoint {checkpoint} does '
                                'not exist')
    from mmengine.runner.checkpoint import _load_checkpoint
    encoder = encoder_config_of(_load_checkpoint(checkpoint, 'cpu'))
    if encoder is None:
        raise DemoScaleError(
            f'--demo-scale: {checkpoint} does not record its encoder config '
            '(meta["backbone"] or meta["cfg"]); export it with '
            'tools/model_converters/extract_backbone.py from an mmsiam '
            'pretraining checkpoint')
    return encoder


def is_resnet(backbone: dict) -> bool:
    return backbone['type'].split('.')[-1].endswith(RESNET_FAMILY)


def resnet_widths(encoder: dict) -> List[int]:
    """Output channels of the 4 stages of an mmpretrain ResNet config,
    e.g. ``[64, 128, 256, 512]`` for ResNet-18 and ``[16, 32, 64, 128]``
    for the ``_demo`` width-16 one."""
    expansion = 4 if encoder.get('depth', 50) >= 50 else 1
    base = encoder.get('base_channels', 64)
    return [base * expansion * 2**i for i in range(4)]


def fit_encoder(backbone: ConfigDict, encoder: dict) -> int:
    """Give the config's ``backbone`` the checkpoint encoder's sizes.

    Returns:
        int: the width of the features the necks and heads take (a ViT's
        ``embed_dims``, a ResNet's last stage).
    """
    if is_resnet(backbone) != is_resnet(encoder):
        raise DemoScaleError(
            f'--demo-scale: the checkpoint holds a {encoder["type"]} encoder '
            f'and the config a {backbone["type"]}; pick a benchmark config '
            'for this encoder (docs/downstream.md, "Which configs fit which '
            'encoder")')
    if is_resnet(encoder):
        for key in ('depth', 'stem_channels', 'base_channels'):
            backbone[key] = encoder.get(key, 64 if key != 'depth' else 50)
        return resnet_widths(encoder)[-1]
    arch = encoder_arch(encoder)
    if not arch:
        raise DemoScaleError(
            f'--demo-scale: the checkpoint records a {encoder["type"]} '
            f'encoder of arch {encoder.get("arch")!r}, which its class does '
            'not know; export it with tools/model_converters/'
            'extract_backbone.py from its pretraining checkpoint')
    backbone['arch'] = encoder['arch']
    backbone['patch_size'] = encoder.get('patch_size', 16)
    depth = arch['num_layers']
    if backbone.get('frozen_stages'):
        backbone['frozen_stages'] = depth
    if 'out_indices' in backbone:  # 4 evenly spaced blocks, the last one last
        backbone['out_indices'] = tuple(
            (i + 1) * depth // 4 - 1 for i in range(4))
    return arch['embed_dims']


def resize_pipeline(pipeline: list, size: int, resize_edge: int):
    """Every size of ``pipeline`` shrunk in place: crops and pads to
    ``size`` squared, a ``(w, h)`` resize scale to a short side of
    ``size`` (its aspect kept, e.g. mmseg's 4:1), ``ResizeEdge`` to
    ``resize_edge``."""
    for step in pipeline:
        if step['type'] == 'ResizeEdge':
            step['scale'] = resize_edge
            continue
        for key in ('scale', 'crop_size', 'size'):
            value = step.get(key)
            if isinstance(value, int):
                step[key] = size
            elif value is not None and key == 'scale':
                step[key] = tuple(size * side // min(value) for side in value)
            elif value is not None:
                step[key] = (size, size)
        if 'scales' in step:
            step['scales'] = [(size, size)]


def under_data_dir(path, data_dir: str):
    """``path`` with its leading ``data/`` replaced by ``data_dir``."""
    if isinstance(path, str) and path.startswith(DATA_PREFIX):
        return osp.join(data_dir, path[len(DATA_PREFIX):])
    return path


def innermost_dataset(dataset: ConfigDict) -> ConfigDict:
    """The dataset a wrapper (``ClassBalancedDataset``...) wraps."""
    while 'dataset' in dataset:
        dataset = dataset['dataset']
    return dataset


def small_loaders(cfg: Config, data_dir: str, batch_size: int,
                  size: int) -> None:
    """Loaders of ``batch_size`` on the tiny sets under ``data_dir``,
    in-process, their images at ``size``; evaluators' files there too."""
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        loader.update(batch_size=batch_size, num_workers=0,
                      persistent_workers=False)
        dataset = innermost_dataset(loader['dataset'])
        dataset['data_root'] = under_data_dir(dataset.get('data_root'),
                                              data_dir)
        if 'filter_cfg' in dataset and 'min_size' in dataset['filter_cfg']:
            dataset['filter_cfg']['min_size'] = 8
        resize_pipeline(dataset['pipeline'], size,
                        resize_edge=math.ceil(size * 256 / 224))
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name) or []
        for evaluator in (evaluators if isinstance(evaluators, list) else
                          [evaluators]):
            if 'ann_file' in evaluator:
                evaluator['ann_file'] = under_data_dir(
                    evaluator['ann_file'], data_dir)


def short_run(cfg: Config) -> None:
    """2 iterations or 1 epoch, then validation; a log line each
    iteration; plain fp32 steps."""
    if cfg.train_cfg.get('type') == 'IterBasedTrainLoop':
        cfg.train_cfg.update(max_iters=SHORT_RUN_ITERS,
                             val_interval=SHORT_RUN_ITERS)
        cfg.default_hooks.checkpoint.interval = SHORT_RUN_ITERS
    else:
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.default_hooks.logger.interval = 1
    for key in ('loss_scale', 'dtype'):
        cfg.optim_wrapper.pop(key, None)
    cfg.optim_wrapper['type'] = 'OptimWrapper'


def fit_detection(cfg: Config, width: int, encoder: dict, size: int):
    model = cfg.model
    backbone = model.backbone
    for augment in model.data_preprocessor.get('batch_augments') or []:
        augment['size'] = (size, size)
    if is_resnet(encoder):
        model.neck['in_channels'] = resnet_widths(encoder)
    else:  # ViTDet: windows of a quarter of the grid in every other block
        patch = backbone['patch_size']
        grid = size // patch
        backbone.update(
            img_size=size, pretrain_img_size=encoder.get('img_size', 224),
            window_size=grid // 4,
            window_block_indexes=tuple(
                range(0, encoder_arch(encoder)['num_layers'], 2)))
        factors = [patch / stride for stride in (4, 8, 16, 32)]
        model.neck.update(
            backbone_channel=width, scale_factors=tuple(factors),
            in_channels=[int(width // f) if f >= 1 else width
                         for f in factors])
        # No test-time padding: a 2-iteration model puts boxes there, where
        # mmdet cannot paste masks.
        val = innermost_dataset(cfg.val_dataloader.dataset)
        val.pipeline = [step for step in val.pipeline if step.type != 'Pad']
    # After 2 iterations every class scores about 1 / num_classes.
    rcnn = model.test_cfg.rcnn
    rcnn.score_thr = min(rcnn.score_thr, 1e-4)


def fit_segmentation(cfg: Config, width: int, size: int):
    model = cfg.model
    model.data_preprocessor['size'] = (size, size)
    model.backbone['img_size'] = size
    model.neck['embed_dim'] = width
    model.decode_head.update(in_channels=[width] * 4, channels=32)
    model.auxiliary_head.update(in_channels=width, channels=32)
    model.test_cfg.update(crop_size=(size, size),
                          stride=(size * 2 // 3, size * 2 // 3))


def fit_classifier(cfg: Config, width: int, size: int):
    model = cfg.model
    if not is_resnet(model.backbone):
        model.backbone['img_size'] = size
    if model.get('neck') and 'input_features' in model.neck:
        model.neck['input_features'] = width
    model.head['in_channels'] = width


def apply_demo_scale(cfg: Config, checkpoint: Optional[str],
                     data_dir: str = 'data') -> str:
    """Shrink the benchmark ``cfg`` in place (see the module doc).

    Args:
        cfg (Config): An mmpretrain classification, mmdet detection or mmseg
            segmentation benchmark config, or a logistic-regression config
            (a top-level ``backbone``).
        checkpoint (str): The ``backbone.*`` file (or pretraining
            checkpoint) whose encoder the run loads.
        data_dir (str): Where ``make_tiny_datasets.py`` wrote the sets.

    Returns:
        str: one line for the log that says what was shrunk.
    """
    if (cfg.filename or '').endswith('_demo.py'):
        raise DemoScaleError(
            f'--demo-scale: {osp.basename(cfg.filename)} is already a '
            'demo-scale config on the built-in data; run it without '
            '--demo-scale')
    encoder = load_encoder_config(checkpoint)
    pretrain_size = encoder.get(
        'img_size',
        RESNET_CLASSIFICATION_SIZE if is_resnet(encoder) else 224)
    if 'logistic_regression' in cfg:  # frozen features, no training
        fit_encoder(cfg.backbone, encoder)
        cfg.backbone['img_size'] = pretrain_size
        small_loaders(cfg, data_dir, CLASSIFICATION_BATCH, pretrain_size)
        return describe(encoder, pretrain_size, data_dir, 'features')
    model_type = cfg.model.get('type', '')
    width = fit_encoder(cfg.model.backbone, encoder)
    if model_type == 'ImageClassifier':
        size, batch = pretrain_size, CLASSIFICATION_BATCH
        fit_classifier(cfg, width, size)
    elif 'roi_head' in cfg.model:
        size, batch = DENSE_SIZE, DENSE_BATCH
        fit_detection(cfg, width, encoder, size)
    elif model_type == 'EncoderDecoder':
        size, batch = DENSE_SIZE, DENSE_BATCH
        fit_segmentation(cfg, width, size)
    else:
        raise DemoScaleError(
            f'--demo-scale shrinks mmpretrain ImageClassifier, mmdet '
            f'two-stage detector and mmseg EncoderDecoder configs, not '
            f'model.type={model_type!r} (file: {cfg.filename})')
    small_loaders(cfg, data_dir, batch, size)
    short_run(cfg)
    return describe(encoder, size, data_dir, 'run')


def describe(encoder: dict, size: int, data_dir: str, what: str) -> str:
    if is_resnet(encoder):
        shape = (f'ResNet-{encoder.get("depth", 50)} of width '
                 f'{encoder.get("base_channels", 64)}')
    else:
        arch = encoder_arch(encoder)
        shape = (f'{arch["num_layers"]}-block {arch["embed_dims"]}-d ViT, '
                 f'patch {encoder.get("patch_size", 16)}')
    length = '' if what == 'features' else ', a short fp32 run'
    return (f'--demo-scale: the checkpoint\'s {shape}, {size}-pixel images '
            f'from the tiny sets in {data_dir}/ (tools/misc/'
            f'make_tiny_datasets.py {data_dir}){length}')


def add_demo_scale_argument(parser) -> None:
    """``--demo-scale [DATA_DIR]`` of the tools that run benchmark
    configs."""
    parser.add_argument(
        '--demo-scale',
        nargs='?',
        const='data',
        metavar='DATA_DIR',
        help='benchmark configs: a short CPU run on the tiny sets that '
        'tools/misc/make_tiny_datasets.py DATA_DIR wrote (default DATA_DIR: '
        'data), the encoder sized as its checkpoint records (e.g. a _demo '
        'pretraining); --cfg-options apply after it '
        '(docs/downstream.md#on-a-cpu)')


def checkpoint_option(cfg: Config, cfg_options: Optional[dict]):
    """The backbone checkpoint a run will load: ``--cfg-options`` (the
    benchmark launchers set it there) before the config."""
    key = 'model.backbone.init_cfg.checkpoint'
    if cfg_options and key in cfg_options:
        return cfg_options[key]
    init_cfg = (cfg.get('model') or {}).get('backbone', {}).get('init_cfg')
    return (init_cfg or {}).get('checkpoint')


__all__ = [
    'add_demo_scale_argument', 'apply_demo_scale', 'checkpoint_option',
    'DemoScaleError'
]
