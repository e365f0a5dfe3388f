"""Gradient accumulation (``optim_wrapper.accumulative_counts``): two
micro-batches of 8 make the same optimizer step as one batch of 16, the
EMA target included, which moves once per optimizer step."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, build_model, load_tool
from mmsiam.runtime import setup_runtime

# The SiameseIM demo made BN-free: LayerNorm for the BatchNorms over tokens
# of its projector and predictor, and the UniGrad loss without its
# batch-covariance term, so that a batch's loss is the mean of its
# samples' (what accumulation needs to be exact).
BN_FREE = dict(
    neck=dict(norm_cfg=dict(type='LN')),
    head=dict(norm_cfg=dict(type='LN'),
              loss=dict(type='UniGradLoss', neg_weight=0.)))
# fp32 sums of the gradients in another order.
RTOL, ATOL = 1e-5, 1e-7


def batch_of(config, model, size, seed):
    setup_runtime()
    step = load_tool('analysis_tools/pretrain_step.py')
    cfg = Config.fromfile(config)
    batch = step.make_batch(cfg, size, cfg.model.backbone.img_size + 16,
                            seed=seed)
    return model.data_preprocessor(batch, training=True)


def split(data, parts):
    """``data`` as ``parts`` micro-batches of equal size."""
    size = len(data['data_samples']) // parts
    return [dict(inputs=[view[i * size:(i + 1) * size]
                         for view in data['inputs']],
                 data_samples=data['data_samples'][i * size:(i + 1) * size])
            for i in range(parts)]


def train(model, batches, accumulative_counts):
    """One ``update_params`` per (micro-)batch with SGD, whose update is
    linear in the gradient (AdamW divides the float noise of gradients that
    are zero in exact arithmetic, such as the key bias's, by their own
    size); returns the momentum each iteration logged."""
    MessageHub.get_current_instance().update_info('max_iters', len(batches))
    optim = OptimWrapper(
        torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                        lr=0.1, momentum=0.9, weight_decay=0.05),
        accumulative_counts=accumulative_counts)
    optim.initialize_count_status(model, 0, len(batches))
    momenta = []
    for data in batches:
        MessageHub.get_current_instance().update_scalar('train/momentum', -1.)
        optim.update_params(model.loss(**data)['loss'])
        momenta.append(MessageHub.get_current_instance().get_scalar(
            'train/momentum').current())
    return momenta


def assert_same_weights(ours, theirs):
    theirs = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        torch.testing.assert_close(param, theirs[name], rtol=RTOL, atol=ATOL,
                                   msg=name)


@pytest.mark.parametrize('config,options', [
    (DEMO_CONFIG, BN_FREE),
], ids=['siameseim-bn-free'])
def test_two_micro_batches_of_8_step_as_one_batch_of_16(config, options):
    """Two optimizer steps each way; the EMA target steps before the first
    micro-batch of each optimizer step (SiameseIM's 'before_forward')."""
    torch.manual_seed(0)
    whole = build_model(config, **copy.deepcopy(options)).train()
    accumulated = copy.deepcopy(whole)
    batches = [batch_of(config, whole, 16, seed) for seed in (0, 1)]
    torch.manual_seed(1)
    whole_momenta = train(whole, batches, accumulative_counts=1)
    torch.manual_seed(1)
    micro = [half for data in batches for half in split(data, 2)]
    accumulated_momenta = train(accumulated, micro, accumulative_counts=2)
    assert_same_weights(accumulated, whole)
    # The EMA ran in iterations 0 and 2 of 4, at the momentum of 0 and 1 of
    # 2 whole steps (-1: no EMA in that iteration).
    assert accumulated_momenta[1] == accumulated_momenta[3] == -1.
    assert accumulated_momenta[0::2] == pytest.approx(whole_momenta)
    assert int(accumulated.target.steps) == 4
    assert int(whole.target.steps) == 2


def test_conmims_teacher_steps_once_per_optimizer_step():
    """'after_step': the teacher moves after the optimizer step only, at
    the momentum of the iteration that ended it."""
    torch.manual_seed(0)
    model = build_model(CONMIM_DEMO_CONFIG).train()
    micro = split(batch_of(CONMIM_DEMO_CONFIG, model, 8, 0), 2) * 2
    teacher = copy.deepcopy(model.target.state_dict())
    MessageHub.get_current_instance().update_info('max_iters', 4)
    optim = OptimWrapper(
        torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                          lr=1e-3), accumulative_counts=2)
    optim.initialize_count_status(model, 0, 4)
    optim.update_params(model.loss(**micro[0])['loss'])
    after_first = model.target.state_dict()
    for key, value in teacher.items():
        # (the teacher's BatchNorm statistics move in its train-mode
        # forward, as in the official code)
        if key != 'steps' and 'running' not in key and (
                'num_batches' not in key):
            assert torch.equal(after_first[key], value), key
    optim.update_params(model.loss(**micro[1])['loss'])
    moved = [k for k, v in model.target.state_dict().items()
             if not torch.equal(v, teacher[k]) and 'running' not in k
             and 'num_batches' not in k and k != 'steps']
    assert moved
    # Iteration 1 of 4 ended the first optimizer step.
    base = model.target.momentum
    assert MessageHub.get_current_instance().get_scalar(
        'train/momentum').current() == pytest.approx(
            base * (1 + torch.cos(torch.tensor(torch.pi / 4)).item()) / 2)
