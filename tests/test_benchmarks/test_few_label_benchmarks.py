"""The demo-scale evaluation configs of configs/benchmarks/classification
(issue #34 item 1): few-label fine-tuning and linear probes (MULAN's
linear protocol) on the built-in digits, from a `_demo` checkpoint or from
scratch."""
import math
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from helpers import REPO, run_tool
from mmsiam.models.heads import StandardizedLinearClsHead
from mmsiam.registry import MODELS

CLASSIFICATION = osp.join(REPO, 'configs', 'benchmarks', 'classification')
SIAMESEIM_FINETUNE = osp.join(
    CLASSIFICATION,
    'siameseim_vit-tiny-p8_1xb25-coslr-100e_mnist5k-100labels_demo.py')
CONMIM_FINETUNE = osp.join(
    CLASSIFICATION,
    'conmim_vit-tiny-p8_1xb25-coslr-100e_mnist5k-100labels_demo.py')
SIAMESEIM_LINEAR = osp.join(
    CLASSIFICATION,
    'siameseim_vit-tiny-p8_1xb25-linear-coslr-90e_mnist5k-100labels_demo.py')
MULAN_LINEAR = osp.join(
    CLASSIFICATION,
    'mulan_resnet18-w16_1xb25-linear-coslr-100e_mnist5k-100labels_demo.py')
CONMIM_LINEAR = osp.join(
    CLASSIFICATION,
    'conmim_vit-tiny-p8_1xb25-linear-coslr-90e_mnist5k-100labels_demo.py')
MULAN_FINETUNE = osp.join(
    CLASSIFICATION,
    'mulan_resnet18-w16_1xb25-coslr-100e_mnist5k-100labels_demo.py')
LAUNCHER = osp.join(REPO, 'tools', 'benchmarks', 'classification',
                    'dist_train.sh')
ACCURACY = re.compile(r'Epoch\(val\) \[2\]\[\d+/\d+\] +accuracy/top1: '
                      r'([0-9.]+)')


def in_process(config, work_dir, **options):
    """``config`` for an in-process Runner: loaders without workers, a 1
    epoch run unless ``options`` say otherwise."""
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].update(num_workers=0, persistent_workers=False)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.merge_from_dict(options)
    return cfg


class BackboneAtStart(Hook):
    """Keeps a copy of the backbone's state once the runner initialised
    it, before the first step."""

    def before_train(self, runner):
        self.state = {k: v.clone()
                      for k, v in runner.model.backbone.state_dict().items()}


@pytest.mark.parametrize('config', [SIAMESEIM_FINETUNE, CONMIM_FINETUNE,
                                    SIAMESEIM_LINEAR, MULAN_LINEAR,
                                    CONMIM_LINEAR, MULAN_FINETUNE],
                         ids=osp.basename)
def test_the_paper_protocol_on_100_labelled_digits(config):
    cfg = Config.fromfile(config)
    train = cfg.train_dataloader.dataset
    assert (train.type, train.num_per_class) == ('mmsiam.ClassBalancedSubset',
                                                 10)
    assert train.dataset.split == 'train'
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert dict(loader.dataset) == dict(
            type='mmsiam.MNIST5k', split='val',
            pipeline=cfg.few_label_val_pipeline)
    assert cfg.model.head.num_classes == 10
    assert cfg.optim_wrapper.type == 'OptimWrapper'  # fp32 on the CPU


def test_mulan_linear_protocol_standardises_with_val_statistics(tmp_path):
    """A frozen encoder in eval mode; the head's statistics are the val
    features' mean and unbiased std, fitted before the first step."""
    runner = Runner.from_cfg(in_process(MULAN_LINEAR, tmp_path))
    model = runner.model
    initialised = BackboneAtStart()
    runner.register_hook(initialised, priority='VERY_HIGH')
    runner.train()
    assert initialised.state
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, initialised.state[key]), key
    model.eval()
    with torch.no_grad():
        features = torch.cat([
            model.head.raw_feature(model.extract_feat(
                model.data_preprocessor(batch, False)['inputs']))
            for batch in runner.val_dataloader])
    assert features.shape == (1000, 128)
    torch.testing.assert_close(model.head.feature_mean, features.mean(0),
                               rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(model.head.feature_std, features.std(0),
                               rtol=1e-4, atol=1e-5)
    with open(osp.join(runner.log_dir, f'{runner.timestamp}.log')) as log:
        text = log.read()
    assert 'Feature standardisation: mean / std of 1000 val features' in text
    assert 'no checkpoint (model.backbone.init_cfg.checkpoint=None): ' \
        'trained from its random initialisation' in text


def test_mulan_fine_tuning_trains_the_encoder_in_train_mode(tmp_path):
    """eval_linear.py --weights finetune: every convolution and every
    BatchNorm's statistics move, at the head's lr, with a plain linear head
    (no standardisation, whose statistics of a random ResNet made the loss
    nan)."""
    runner = Runner.from_cfg(in_process(MULAN_FINETUNE, tmp_path))
    initialised = BackboneAtStart()
    runner.register_hook(initialised, priority='VERY_HIGH')
    runner.train()
    state = runner.model.backbone.state_dict()
    moving = [key for key, value in state.items()
              if key.endswith('running_mean') or value.dim() == 4]
    assert len(moving) > 30
    unchanged = [key for key in moving
                 if torch.equal(state[key], initialised.state[key])]
    assert unchanged == []
    assert type(runner.model.head).__name__ == 'LinearClsHead'
    assert {group['initial_lr'] for group in
            runner.optim_wrapper.optimizer.param_groups} == {0.05}
    assert math.isfinite(
        runner.message_hub.get_scalar('train/loss').current())


def test_an_unfitted_standardised_head_says_what_to_add():
    head = StandardizedLinearClsHead(num_classes=2, in_channels=3)
    with pytest.raises(RuntimeError, match=r"add dict\(type='mmsiam."
                       r"FeatureStandardizationHook'\) to custom_hooks"):
        head.pre_logits((torch.zeros(1, 3), ))


def test_a_benchmark_without_a_checkpoint_says_how_to_pass_one():
    backbone = MODELS.build(
        dict(type='mmsiam.StrictPretrainedResNet', depth=18,
             init_cfg=dict(type='Pretrained', checkpoint=None,
                           prefix='backbone.')))
    with pytest.raises(ValueError, match='init_cfg names no checkpoint. '
                       'Pass the pretrained encoder'):
        backbone.init_weights()


@pytest.mark.slow
@pytest.mark.parametrize('processes', [1, 2])
def test_dist_train_fine_tunes_a_demo_checkpoint(processes, tmp_path,
                                                 backbone_checkpoint):
    """The documented command with 1 and 2 CPU processes (gloo)."""
    out = run_tool([
        LAUNCHER, SIAMESEIM_FINETUNE, backbone_checkpoint, processes,
        '--work-dir', tmp_path, '--cfg-options', 'train_cfg.max_epochs=2',
        'train_cfg.val_interval=1'
    ], timeout=900).stdout
    assert 'StrictPretrainedViT: loaded 52 pretrained tensors' in out
    assert f'GPU number: {processes}' in out  # processes, on the CPU
    assert ACCURACY.search(out), out[-3000:]
    assert osp.isfile(tmp_path / 'epoch_2.pth')


@pytest.mark.slow
@pytest.mark.parametrize('config, checkpoint', [
    (CONMIM_FINETUNE, 'conmim_backbone_checkpoint'),
    (SIAMESEIM_LINEAR, 'backbone_checkpoint'),
    (MULAN_LINEAR, 'mulan_backbone_checkpoint'),
    (CONMIM_LINEAR, 'conmim_backbone_checkpoint'),
    (MULAN_FINETUNE, 'mulan_backbone_checkpoint'),
], ids=['conmim-finetune', 'siameseim-linear', 'mulan-linear',
        'conmim-linear', 'mulan-finetune'])
def test_dist_train_evaluates_the_other_demo_encoders(config, checkpoint,
                                                      tmp_path, request):
    out = run_tool([
        LAUNCHER, config, request.getfixturevalue(checkpoint), 1,
        '--work-dir', tmp_path, '--cfg-options', 'train_cfg.max_epochs=2',
        'train_cfg.val_interval=1'
    ], timeout=900).stdout
    assert re.search(r'Strict\w+: loaded \d+ pretrained tensors', out)
    assert ACCURACY.search(out), out[-3000:]
