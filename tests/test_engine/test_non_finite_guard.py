"""NonFiniteGuardHook in a real Runner of the SiameseIM demo config fed
poisoned (NaN) batches."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook

from helpers import DEMO_CONFIG, TINY_DEMO_OPTIONS, load_tool

train = load_tool('train.py')


class PoisonBatches(Hook):
    """Replaces the images of the given iterations (1-based) by NaN and
    records the weights after every iteration (after the guard's hooks)."""
    priority = 'LOW'

    def __init__(self, iterations):
        self.iterations = set(iterations)
        self.weights = {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 in self.iterations:
            data_batch['inputs'] = [
                torch.full(view.shape, math.nan) for view in
                data_batch['inputs']
            ]

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        self.weights[runner.iter + 1] = {
            k: v.detach().clone()
            for k, v in runner.model.state_dict().items()
        }


def build_runner(work_dir, options=()):
    from mmengine.runner import Runner
    args = train.parse_args([
        DEMO_CONFIG, '--work-dir', str(work_dir), '--no-validate',
        '--cfg-options'
    ] + TINY_DEMO_OPTIONS + list(options))
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(args.cfg_options)
    return Runner.from_cfg(train.merge_args(cfg, args))


def test_guard_skips_poisoned_steps_then_stops_keeping_the_checkpoint(
        tmp_path, caplog):
    from mmsiam.engine.hooks.non_finite_guard_hook import \
        NonFiniteTrainingError
    runner = build_runner(tmp_path,
                          ['default_hooks.non_finite_guard.max_skips=2'])
    # Iteration 3 (epoch 1) once; 6, 7, 8 (epoch 2) in a row.
    poison = PoisonBatches([3, 6, 7, 8])
    runner.register_hook(poison)
    with pytest.raises(NonFiniteTrainingError) as error:
        runner.train()
    message = str(error.value)
    assert 'iteration 8: non-finite loss' in message
    assert '3 in a row' in message and 'max_skips=2' in message
    assert str(tmp_path / 'epoch_1.pth') in message
    # Stopped before the end of epoch 2: its checkpoint was not written;
    # the last one (after iteration 4) is intact.
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_1.pth']
    assert (tmp_path / 'last_checkpoint').read_text().strip() == str(
        tmp_path / 'epoch_1.pth')
    saved = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    assert all(torch.isfinite(v).all() for v in saved['state_dict'].values()
               if v.is_floating_point())
    # A skipped step changes nothing (parameters, the target branch's
    # parameters only move by its EMA towards the same online weights, and
    # the BatchNorm statistics are restored).
    online = [k for k in poison.weights[2] if not k.startswith('target.')]
    final = runner.model.state_dict()
    for key in online:
        assert torch.equal(poison.weights[2][key], poison.weights[3][key]), key
        assert torch.equal(poison.weights[5][key], final[key]), key
    for weights in poison.weights.values():
        assert all(torch.isfinite(v).all() for v in weights.values()
                   if v.is_floating_point())
    # Training went on after the single poisoned step.
    assert not torch.equal(poison.weights[3]['backbone.cls_token'],
                           poison.weights[4]['backbone.cls_token'])


def test_nan_gradient_names_the_parameters(tmp_path):
    """A finite loss with a NaN gradient (a poisoned parameter gradient
    hook) at every step: each step is skipped and the parameter named; the
    sixth in a row (default max_skips=5) stops the run."""
    runner = build_runner(tmp_path)
    model = runner.model
    model.backbone.cls_token.register_hook(
        lambda grad: torch.full_like(grad, math.nan))
    logged = []

    class Capture(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            logged.append(runner.message_hub.get_scalar(
                'train/skipped_steps').current())

    runner.register_hook(Capture(), priority='LOWEST')
    from mmsiam.engine.hooks.non_finite_guard_hook import \
        NonFiniteTrainingError
    with pytest.raises(NonFiniteTrainingError,
                       match=r'gradients of 1 parameters '
                       r'\(backbone\.cls_token\)'):
        runner.train()
    assert logged == [1, 2, 3, 4, 5]
    # No step was taken: the weights are still the initial ones, as saved
    # after epoch 1.
    saved = torch.load(tmp_path / 'epoch_1.pth', weights_only=True)
    for name, value in model.state_dict().items():
        if not name.startswith('target.'):
            assert torch.equal(value, saved['state_dict'][name]), name
