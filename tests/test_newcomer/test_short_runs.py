"""Newcomer items 7 and 8 (issue #33): the common short-run edits of the
docs run, or stop with a message that says what to do."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from helpers import (DEMO_CONFIG, DEMO_PRETRAIN_CONFIG, REPO,
                     TINY_DEMO_OPTIONS, demo_config, load_tool, run_tool)
from mmsiam.config_checks import ConfigKeyError, fit_schedulers_to_run

train = load_tool('train.py')


def prepared(config, options):
    args = train.parse_args([config, '--cfg-options', *options])
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(args.cfg_options)
    return train.merge_args(cfg, args)


def test_one_epoch_of_the_make_demo_config_drops_the_cosine():
    """docs/config_system.md's example, train_cfg.max_epochs=1, stopped with
    'end should be larger than begin, but got begin=62, end=62': the cosine
    begins after the 1-epoch warm-up."""
    cfg = prepared(DEMO_PRETRAIN_CONFIG, ['train_cfg.max_epochs=1'])
    changes = fit_schedulers_to_run(cfg)
    assert changes == [
        'param_scheduler[1] (CosineAnnealingLR) begins at epoch 1, when the '
        '1-epoch run has ended: dropped'
    ]
    assert [s['type'] for s in cfg.param_scheduler] == ['LinearWarmupLR']


def test_a_shorter_run_ends_the_cosine_with_it():
    cfg = prepared(DEMO_CONFIG, ['train_cfg.max_epochs=4'])
    assert fit_schedulers_to_run(cfg) == [
        'param_scheduler[1] (CosineAnnealingLR) ends at epoch 4 with the run '
        '(was 10)'
    ]
    cosine = cfg.param_scheduler[1]
    assert (cosine['begin'], cosine['end'], cosine['T_max']) == (1, 4, 3)
    # A schedule that fits is left as it is.
    assert fit_schedulers_to_run(Config.fromfile(DEMO_CONFIG)) == []


def test_a_warmup_longer_than_the_run_is_said_with_the_fix():
    """Kept (a smoke test of a long schedule), with a line that says so."""
    paper = demo_config('siameseim').replace(
        'siameseim_vit-tiny-p8_1xb64-coslr-10e_mnist5k_demo.py',
        'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py')
    cfg = prepared(paper, ['train_cfg.max_epochs=10'])
    changes = fit_schedulers_to_run(cfg)
    assert changes[0] == (
        'param_scheduler[0] (LinearWarmupLR) warms up until epoch 40, past '
        'the end of the 10-epoch run: the lr never reaches its peak (kept, '
        'as for a smoke test; for a short run shorten it with --cfg-options '
        'param_scheduler.0.end=N, N <= 10)')
    assert changes[1:] == [
        'param_scheduler[1] (CosineAnnealingLR) begins at epoch 40, when the '
        '10-epoch run has ended: dropped'
    ]
    assert [s['type'] for s in cfg.param_scheduler] == ['LinearWarmupLR']


def test_begin_after_end_is_named():
    cfg = prepared(DEMO_CONFIG, ['param_scheduler.1.begin=12'])
    with pytest.raises(ConfigKeyError,
                       match=r'param_scheduler\[1\] \(CosineAnnealingLR\): '
                       r'begin=12 >= end=10'):
        fit_schedulers_to_run(cfg)


# The tiny demo options without the kNN monitor's.
TINY_TRAIN_OPTIONS = [
    o for o in TINY_DEMO_OPTIONS if not o.startswith('val_')
]


@pytest.mark.slow
def test_the_knn_monitor_switches_off_as_documented(tmp_path):
    """`val_cfg=None val_dataloader=None val_evaluator=None` stopped with
    'ValidateAtStartHook needs a validation loop'."""
    proc = run_tool([
        osp.join(REPO, 'tools', 'train.py'), DEMO_PRETRAIN_CONFIG,
        '--work-dir', tmp_path, '--cfg-options', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None'
    ] + TINY_TRAIN_OPTIONS)
    assert 'no validation loop (val_cfg is None), nothing to validate' in \
        proc.stdout
    assert 'kNN top-1' not in proc.stdout
    assert (tmp_path / 'epoch_2.pth').is_file()


@pytest.mark.slow
def test_the_knn_summary_names_its_data(demo_run):
    """On a photos run the monitor still measures MNIST digits: the closing
    line says so."""
    assert re.search(r'kNN top-1: random init [0-9.]+ -> trained [0-9.]+ '
                     r'\(raw pixels [0-9.]+\) on MNIST5k val\n', demo_run[1])
