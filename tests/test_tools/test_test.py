"""tools/test.py and tools/dist_test.sh: evaluate a checkpoint."""
import os.path as osp
import pickle

import pytest
import torch
from mmengine.config import Config

from helpers import REPO, build_model, load_tool, run_tool

TEST = osp.join(REPO, 'tools', 'test.py')
test_tool = load_tool('test.py')

# A small mmpretrain classifier evaluated on the built-in digits.
CLASSIFIER_CONFIG = """
default_scope = 'mmsiam'
model = dict(
    type='ImageClassifier',
    data_preprocessor=dict(
        type='ClsDataPreprocessor', mean=[127.5] * 3, std=[127.5] * 3),
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
test_dataloader = dict(
    batch_size=50,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MNIST5k', split='val', indices=100,
        pipeline=[dict(type='Resize', scale=32), dict(type='PackInputs')]))
test_evaluator = dict(type='Accuracy', topk=(1, ))
test_cfg = dict()
env_cfg = dict(dist_cfg=dict(backend='nccl'))
"""


@pytest.fixture
def classifier(tmp_path):
    config = tmp_path / 'classifier.py'
    config.write_text(CLASSIFIER_CONFIG)
    model = build_model(str(config), init=False)
    ckpt = tmp_path / 'classifier.pth'
    torch.save({'state_dict': model.state_dict()}, ckpt)
    return config, ckpt


def test_argument_errors(tmp_path, classifier):
    config, ckpt = classifier
    args = test_tool.parse_args([str(config), 'missing.pth'])
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        test_tool.merge_args(Config.fromfile(str(config)), args)
    args = test_tool.parse_args([str(config), str(ckpt), '--out', 'x.json'])
    with pytest.raises(ValueError, match='x.json.*pkl'):
        test_tool.merge_args(Config.fromfile(str(config)), args)


@pytest.mark.slow
def test_evaluates_checkpoint_and_dumps_predictions(tmp_path, classifier):
    config, ckpt = classifier
    out = tmp_path / 'preds.pkl'
    proc = run_tool([TEST, config, ckpt, '--work-dir', tmp_path / 'wd',
                     '--out', out])
    assert 'Metrics: {' in proc.stdout and 'accuracy/top1' in proc.stdout
    assert f'Load checkpoint from {ckpt}' in proc.stdout
    with open(out, 'rb') as f:
        assert len(pickle.load(f)) == 100


@pytest.mark.slow
def test_dist_test_with_two_processes(tmp_path, classifier):
    config, ckpt = classifier
    proc = run_tool([
        osp.join(REPO, 'tools', 'dist_test.sh'), config, ckpt, 2,
        '--work-dir', tmp_path / 'wd'
    ])
    assert 'Distributed training: True' in proc.stdout
    # Rank 0 reports the metric over all 100 images (collected from both).
    assert proc.stdout.count('Metrics: {') == 1
