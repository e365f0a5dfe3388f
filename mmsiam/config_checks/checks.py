"""Checks that turn common config mistakes into errors that name the key.

mmengine's ``Runner.from_cfg`` silently ignores top-level keys it does not
know, and a missing dataset folder surfaces deep inside a dataset class (or
in a dataloader worker). :func:`check_config` runs before the runner is
built and names the offending key and path instead.
"""
import difflib
import os
import os.path as osp
from typing import Iterable, Iterator, Tuple

from mmengine.config import Config, ConfigDict

from .component_keys import check_component_keys
from .errors import ConfigKeyError
from .image_sizes import check_image_sizes

# Top-level keys that mmengine's Runner (and tools/train.py) read.
RUNNER_KEYS = (
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'model_wrapper_cfg', 'runner_type', 'custom_imports', 'sync_bn',
    'find_unused_parameters', 'vis_backends',
    # read by mmsiam's tools/train.py (and tools/test.py)
    'compile', 'strategy', 'attention_kernel')

DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATOR_KEYS = ('val_evaluator', 'test_evaluator')


def check_runner_keys(cfg: Config) -> None:
    """Reject a top-level key that is a near-miss of a runner key.

    ``train_dataloder = dict(...)`` in a file, or ``--cfg-options
    train_dataloder.batch_size=8``, is otherwise ignored by the runner,
    which trains with the inherited ``train_dataloader``. Any other
    top-level key (config variables such as ``data_root``) is left alone.
    """
    for key in cfg.keys():
        if key in RUNNER_KEYS:
            continue
        for match in difflib.get_close_matches(key, RUNNER_KEYS, n=1,
                                               cutoff=0.85):
            raise ConfigKeyError(
                f'config key "{key}" is not read by the runner, which would '
                f'train without it; did you mean "{match}"? (file: '
                f'{cfg.filename}; a --cfg-options key counts as one)')


def _datasets(cfg: dict, where: str) -> Iterator[Tuple[str, dict]]:
    """Yield ``(key path, dataset cfg)`` through dataset wrappers."""
    yield where, cfg
    inner = cfg.get('dataset')
    if isinstance(inner, dict):
        yield from _datasets(inner, f'{where}.dataset')
    for i, item in enumerate(cfg.get('datasets') or []):
        if isinstance(item, dict):
            yield from _datasets(item, f'{where}.datasets[{i}]')


def _loader_datasets(cfg: Config,
                     keys: Iterable[str]) -> Iterator[Tuple[str, dict]]:
    """Yield ``(key path, dataset cfg)`` of the loaders named by ``keys``."""
    for loader_key in keys:
        loader = cfg.get(loader_key)
        if isinstance(loader, dict) and isinstance(loader.get('dataset'),
                                                   dict):
            yield from _datasets(loader['dataset'], f'{loader_key}.dataset')


def _check_path(path: str, key: str, expected: str) -> None:
    """``path`` exists and, if it is a folder, is not empty."""
    problem = ('does not exist' if not osp.exists(path) else 'is empty'
               if osp.isdir(path) and not os.listdir(path) else None)
    if problem:
        raise FileNotFoundError(
            f'{key}: "{path}" {problem}; expected {expected}. Set it '
            f'in the config or with --cfg-options {key.split("[")[0]}=...')


def _image_folder(dataset: dict, root: str) -> str:
    """Where a classification dataset's image list is relative to: its
    ``data_prefix`` (or ``data_prefix.img_path``), else ImageNet's split
    folder."""
    prefix = dataset.get('data_prefix') or ''
    if isinstance(prefix, dict):
        prefix = prefix.get('img_path') or ''
    return osp.join(root, prefix or dataset.get('split') or '')


def check_image_list(path: str, image_folder: str, key: str,
                     num_checked: int = 5) -> None:
    """Check an mmpretrain image-list annotation file (``<image path>
    [<integer label>]`` per line): it has entries, every label is an
    integer, and its first ``num_checked`` images exist in
    ``image_folder``."""
    with open(path) as f:
        lines = [(i, line.strip()) for i, line in enumerate(f, 1)
                 if line.strip()]
    if not lines:
        raise ValueError(f'{key}: "{path}" lists no images; expected lines '
                         '"<image path> <integer label>"')
    for number, line in lines:
        parts = line.rsplit(' ', 1)
        if len(parts) == 2 and not parts[1].lstrip('-').isdigit():
            raise ValueError(
                f'{key}: line {number} of "{path}" is "{line[:80]}"; '
                'expected "<image path> <integer label>"')
    for number, line in lines[:num_checked]:
        image = line.rsplit(' ', 1)[0] if ' ' in line else line
        if not osp.isfile(osp.join(image_folder, image)):
            raise FileNotFoundError(
                f'{key}: line {number} of "{path}" names "{image}", which '
                f'is not in "{image_folder}"; expected the image list of '
                'that folder (another split, or a wrong data_prefix?)')


def check_dataset_paths(cfg: Config, keys: Iterable[str] = DATALOADER_KEYS):
    """Check ``data_root``, ``ann_file`` and ``data_prefix`` of datasets.

    Only local paths are checked (no ``scheme://`` back-ends).
    """
    for where, dataset in _loader_datasets(cfg, keys):
        root = dataset.get('data_root') or ''
        if root and '://' not in root:
            _check_path(root, f'{where}.data_root', 'the dataset folder')
        ann_file = dataset.get('ann_file') or ''
        if ann_file and '://' not in ann_file + root:
            _check_path(
                osp.join(root, ann_file), f'{where}.ann_file',
                'the annotation file (relative to data_root)')
        elif not ann_file and dataset.get('split') and root:
            # mmpretrain's ImageNet reads meta/<split>.txt if present, else
            # the class folders of <split>/.
            split = dataset['split']
            ann_file = osp.join('meta', f'{split}.txt')
            if not osp.isfile(osp.join(root, ann_file)):
                ann_file = ''
                _check_path(
                    osp.join(root, split), f'{where}.data_root',
                    f'a data root holding the "{split}" image folder '
                    f'(or meta/{split}.txt) of split="{split}"')
        if ann_file.endswith('.txt') and '://' not in ann_file + root:
            check_image_list(
                osp.join(root, ann_file), _image_folder(dataset, root),
                f'{where}.ann_file')
        prefix = dataset.get('data_prefix')
        prefixes = prefix.items() if isinstance(prefix, dict) else [
            ('', prefix)
        ] if isinstance(prefix, str) else []
        for name, value in prefixes:
            if value and '://' not in value + root:
                sub = f'.{name}' if name else ''
                _check_path(
                    osp.join(root, value), f'{where}.data_prefix{sub}',
                    'an image/annotation folder (relative to data_root)')


def check_data_root_is_read(cfg: Config,
                            keys: Iterable[str] = DATALOADER_KEYS) -> None:
    """Reject ``data_root`` on a dataset that reads no files (the built-in
    ``MNIST5k``), which would train on its own data without a word."""
    from .component_keys import mmsiam_classes
    for where, dataset in _loader_datasets(cfg, keys):
        if not dataset.get('data_root') or not isinstance(
                dataset.get('type'), str):
            continue
        classes = mmsiam_classes(dataset['type'], cfg.get('default_scope'))
        if any(getattr(c, 'READS_FILES', True) is False for c in classes):
            raise ConfigKeyError(
                f'{where}.data_root: {dataset["type"]} is built in and reads '
                f'no files, so data_root "{dataset["data_root"]}" would be '
                f'ignored; to train on the images of a folder set '
                f'{where}.type=UnlabeledImageFolder as well '
                f'(docs/custom_data.md) (file: {cfg.filename})')


def check_evaluator_files(cfg: Config, keys: Iterable[str] = EVALUATOR_KEYS):
    """Check ``ann_file`` of metrics (e.g. ``CocoMetric``)."""
    for key in keys:
        metrics = cfg.get(key)
        metrics = metrics if isinstance(metrics, list) else [metrics]
        for i, metric in enumerate(metrics):
            if isinstance(metric, (dict, ConfigDict)) and metric.get(
                    'ann_file') and '://' not in metric['ann_file']:
                where = f'{key}[{i}]' if len(metrics) > 1 else key
                _check_path(metric['ann_file'], f'{where}.ann_file',
                            'the annotation file the metric evaluates with')


def check_config(cfg: Config, phase: str = 'train') -> None:
    """Run every check that applies to ``phase`` ('train' or 'test')."""
    check_runner_keys(cfg)
    check_component_keys(cfg)
    # The runner builds the test loader only in test().
    loaders = (['train_dataloader', 'val_dataloader']
               if phase == 'train' else ['test_dataloader'])
    check_data_root_is_read(cfg, loaders)
    check_dataset_paths(cfg, loaders)
    check_evaluator_files(
        cfg, ['val_evaluator' if phase == 'train' else 'test_evaluator'])
    for where, dataset in _loader_datasets(cfg, loaders):
        check_image_sizes(dataset, where, cfg.get('default_scope'))
