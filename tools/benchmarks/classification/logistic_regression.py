#!/usr/bin/env python
"""Few-shot ("ImageNet 1%") evaluation: logistic regression on frozen
features of a pretrained backbone.

Features of a per-class fraction of the training split and of the whole
validation split are extracted with the config's evaluation pipeline,
centred and L2-normalised per sample, and a multinomial logistic
regression with an L2 penalty ``lambda = lambda_scale / N`` and no
intercept is fit (scikit-learn's ``C = 1 / lambda_scale`` gives the same
minimiser as ``mean loss + lambda / 2 ||w||^2``). Prints top-1 / top-5 on
the validation split and writes them to ``WORK_DIR/logistic_regression.json``.

Example::

    python tools/benchmarks/classification/logistic_regression.py \\
        configs/benchmarks/classification/siameseim_vit-base-p16_logistic-regression-1pct_in1k.py \\
        siameseim_backbone.pth
"""
import argparse
import json
import math
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine import DefaultScope
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from sklearn.linear_model import LogisticRegression
from torch.utils.data import DataLoader, Subset

from mmsiam.config_checks import check_config
from mmsiam.registry import DATASETS, MODELS
from mmsiam.runtime import setup_runtime
from mmsiam.utils import default_work_dir, register_all_modules
from mmsiam.utils.demo_scale import add_demo_scale_argument, apply_demo_scale


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Logistic regression on frozen features (few-shot)')
    parser.add_argument('config', help='classification benchmark config')
    parser.add_argument('checkpoint', help='backbone.* checkpoint')
    parser.add_argument('--work-dir', help='where to write the results')
    parser.add_argument('--fraction', type=float,
                        help='training images per class (overrides config)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_demo_scale_argument(parser)
    return parser.parse_args(argv)


def class_fraction(labels: np.ndarray, fraction: float, seed: int):
    """Indices of ``ceil(fraction * n_c)`` random images of every class."""
    rng = np.random.default_rng(seed)
    picked = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        count = max(1, math.ceil(fraction * len(members)))
        picked += rng.choice(members, count, replace=False).tolist()
    return sorted(picked)


@torch.no_grad()
def extract(backbone, preprocessor, dataset, batch_size, name):
    """``(N, C)`` features and ``(N,)`` labels, with progress."""
    loader = DataLoader(dataset, batch_size=batch_size,
                        collate_fn=pseudo_collate)
    feats, labels, done, start = [], [], 0, time.time()
    for batch in loader:
        data = preprocessor(batch, False)
        out = backbone(data['inputs'])
        feats.append(out[-1] if isinstance(out, (tuple, list)) else out)
        labels += [int(s.gt_label) for s in data['data_samples']]
        done += len(data['data_samples'])
        print(f'\r{name} features: {done}/{len(dataset)} '
              f'({time.time() - start:.0f} s)', end='', flush=True)
    print()
    return torch.cat(feats).double().numpy(), np.array(labels)


def center_and_normalise(feats: np.ndarray) -> np.ndarray:
    feats = feats - feats.mean(axis=1, keepdims=True)
    return feats / np.linalg.norm(feats, axis=1, keepdims=True)


def top_k(probs: np.ndarray, classes: np.ndarray, labels: np.ndarray, k):
    best = classes[np.argsort(-probs, axis=1)[:, :k]]
    return float((best == labels[:, None]).any(axis=1).mean() * 100)


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.demo_scale:
        print(apply_demo_scale(cfg, args.checkpoint, args.demo_scale))
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    check_config(cfg, phase='train')
    options = dict(cfg.logistic_regression)
    if args.fraction is not None:
        options['fraction'] = args.fraction
    work_dir = args.work_dir or default_work_dir(args.config)
    backbone_cfg = dict(cfg.backbone)
    backbone_cfg['init_cfg'] = dict(backbone_cfg['init_cfg'],
                                    checkpoint=args.checkpoint)
    with DefaultScope.overwrite_default_scope('mmsiam'):
        backbone = MODELS.build(backbone_cfg)
        backbone.init_weights()
        backbone.eval()
        preprocessor = MODELS.build(
            dict(type='ClsDataPreprocessor', **cfg.data_preprocessor))
        train = DATASETS.build(cfg.train_dataloader.dataset)
        val = DATASETS.build(cfg.val_dataloader.dataset)
    subset = class_fraction(np.asarray(train.get_gt_labels()),
                            options['fraction'], options['seed'])
    x_train, y_train = extract(backbone, preprocessor, Subset(train, subset),
                               cfg.train_dataloader.batch_size, 'train')
    x_val, y_val = extract(backbone, preprocessor, val,
                           cfg.val_dataloader.batch_size, 'val')
    classifier = LogisticRegression(
        C=1 / options['lambda_scale'], fit_intercept=False,
        max_iter=options['max_iter'], tol=options['tol'])
    start = time.time()
    classifier.fit(center_and_normalise(x_train), y_train)
    print(f'fit on {len(y_train)} images of {len(classifier.classes_)} '
          f'classes in {time.time() - start:.1f} s')
    probs = classifier.predict_proba(center_and_normalise(x_val))
    results = {
        'accuracy/top1': top_k(probs, classifier.classes_, y_val, 1),
        'accuracy/top5': top_k(probs, classifier.classes_, y_val, 5),
        'train_images': len(y_train),
        'val_images': len(y_val),
        **options,
    }
    os.makedirs(work_dir, exist_ok=True)
    out = osp.join(work_dir, 'logistic_regression.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2)
    print(f'top-1 {results["accuracy/top1"]:.2f}  '
          f'top-5 {results["accuracy/top5"]:.2f}  ({out})')


if __name__ == '__main__':
    main()
