"""Checks that turn common config mistakes into errors that name the key.

mmengine's ``Runner.from_cfg`` silently ignores top-level keys it does not
know, and a missing dataset folder surfaces deep inside a dataset class (or
in a dataloader worker). :func:`check_config` runs before the runner is
built and names the offending key and path instead.
"""
import difflib
import os.path as osp
from typing import Iterable, Iterator, Tuple

from mmengine.config import Config, ConfigDict

# Top-level keys that mmengine's Runner (and tools/train.py) read.
RUNNER_KEYS = (
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'runner_type', 'custom_imports', 'sync_bn',
    'find_unused_parameters', 'vis_backends')

DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATOR_KEYS = ('val_evaluator', 'test_evaluator')


class ConfigKeyError(KeyError):
    """A config key is misspelt; the message names it and the fix."""

    def __str__(self):
        return self.args[0]


def check_runner_keys(cfg: Config) -> None:
    """Reject a top-level key that is a near-miss of an unset runner key.

    ``train_dataloder = dict(...)`` is otherwise ignored by the runner.
    Any other top-level key (config variables such as ``data_root``) is
    left alone.
    """
    for key in cfg.keys():
        if key in RUNNER_KEYS:
            continue
        for match in difflib.get_close_matches(key, RUNNER_KEYS, cutoff=0.85):
            if match not in cfg:
                raise ConfigKeyError(
                    f'config key "{key}" is not read by the runner; did you '
                    f'mean "{match}"? (file: {cfg.filename})')


def _datasets(cfg: dict, where: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(key path, dataset cfg)`` through dataset wrappers."""
    yield where, cfg
    inner = cfg.get('dataset')
    if isinstance(inner, dict):
        yield from _datasets(inner, f'{where}.dataset')
    for i, item in enumerate(cfg.get('datasets') or []):
        if isinstance(item, dict):
            yield from _datasets(item, f'{where}.datasets[{i}]')


def _must_exist(path: str, key: str, expected: str) -> None:
    if not osp.exists(path):
        raise FileNotFoundError(
            f'{key}: "{path}" does not exist; expected {expected}. Set it '
            f'in the config or with --cfg-options {key.split("[")[0]}=...')


def check_dataset_paths(cfg: Config, keys: Iterable[str] = DATALOADER_KEYS):
    """Check ``data_root``, ``ann_file`` and ``data_prefix`` of datasets.

    Only local paths are checked (no ``scheme://`` back-ends).
    """
    for loader_key in keys:
        loader = cfg.get(loader_key)
        if not isinstance(loader, dict) or not isinstance(
                loader.get('dataset'), dict):
            continue
        for where, dataset in _datasets(loader['dataset'],
                                        f'{loader_key}.dataset'):
            root = dataset.get('data_root') or ''
            if root and '://' not in root:
                _must_exist(root, f'{where}.data_root', 'the dataset folder')
            ann_file = dataset.get('ann_file') or ''
            if ann_file and '://' not in ann_file + root:
                _must_exist(
                    osp.join(root, ann_file), f'{where}.ann_file',
                    'the annotation file (relative to data_root)')
            prefix = dataset.get('data_prefix')
            prefixes = prefix.items() if isinstance(prefix, dict) else [
                ('', prefix)
            ] if isinstance(prefix, str) else []
            for name, value in prefixes:
                if value and '://' not in value + root:
                    sub = f'.{name}' if name else ''
                    _must_exist(
                        osp.join(root, value), f'{where}.data_prefix{sub}',
                        'an image/annotation folder (relative to data_root)')


def check_evaluator_files(cfg: Config, keys: Iterable[str] = EVALUATOR_KEYS):
    """Check ``ann_file`` of metrics (e.g. ``CocoMetric``)."""
    for key in keys:
        metrics = cfg.get(key)
        metrics = metrics if isinstance(metrics, list) else [metrics]
        for i, metric in enumerate(metrics):
            if isinstance(metric, (dict, ConfigDict)) and metric.get(
                    'ann_file') and '://' not in metric['ann_file']:
                where = f'{key}[{i}]' if len(metrics) > 1 else key
                _must_exist(metric['ann_file'], f'{where}.ann_file',
                            'the annotation file the metric evaluates with')


def check_config(cfg: Config, phase: str = 'train') -> None:
    """Run every check that applies to ``phase`` ('train' or 'test')."""
    check_runner_keys(cfg)
    if phase == 'train':  # the runner builds the test loader only in test()
        check_dataset_paths(cfg, ['train_dataloader', 'val_dataloader'])
        check_evaluator_files(cfg, ['val_evaluator'])
    else:
        check_dataset_paths(cfg, ['test_dataloader'])
        check_evaluator_files(cfg, ['test_evaluator'])
