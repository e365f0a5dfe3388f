"""The official steps that benchmark_vs_official.py times compute what
mmsiam computes: with the same weights (the official-to-mmsiam converters)
and the same batch, the same loss and the same gradients."""
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, build_model, load_tool


def load_official(method):
    bench = load_tool('analysis_tools/benchmark_vs_official.py')
    step = load_tool('analysis_tools/pretrain_step.py')
    import official_steps
    converter = load_tool(
        f'model_converters/{method}_official_to_mmsiam.py')
    return bench, step, official_steps, converter


def same_batch(bench, step, method, config, model, batch_size=4):
    cfg = Config.fromfile(config)
    image_size = cfg.model.backbone.img_size + 16
    data = model.data_preprocessor(
        step.make_batch(cfg, batch_size, image_size), training=True)
    return data, bench.official_batch(method, data['inputs'],
                                      data['data_samples'])


def assert_same_gradients(official, model, rules, key_mapping):
    grads = {name: param.grad for name, param in official.named_parameters()
             if param.grad is not None}
    renamed, unknown = key_mapping.map_keys(grads, rules)
    assert not unknown
    ours = {name: param.grad for name, param in model.named_parameters()
            if param.grad is not None}
    assert set(renamed) == set(ours)
    # fp32 sums in another order: absolute error up to 1e-4 of the
    # tensor's largest entry, or 1e-6 of the largest gradient (some, e.g.
    # a LayerNorm bias before a BatchNorm, are 0 up to rounding).
    largest = max(float(grad.abs().max()) for grad in renamed.values())
    for name, grad in renamed.items():
        atol = max(1e-4 * float(grad.abs().max()), 1e-6 * largest)
        torch.testing.assert_close(ours[name], grad, rtol=1e-4, atol=atol,
                                   msg=lambda text: f'{name}: {text}')


@pytest.mark.parametrize('method,config', [('siameseim', DEMO_CONFIG),
                                           ('conmim', CONMIM_DEMO_CONFIG)])
def test_official_step_has_mmsiam_loss_and_gradients(method, config):
    bench, step, official_steps, converter = load_official(method)
    import key_mapping
    MessageHub.get_current_instance().update_info('max_iters', 10)
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    if method == 'siameseim':
        official = official_steps.SiameseIMOfficial.from_config(cfg.model)
        state, _ = converter.convert(official.state_dict())
        rules = converter.PRETRAIN_RULES
    else:
        official = official_steps.ConMIMOfficial.from_config(cfg.model)
        student = {k[8:]: v for k, v in official.state_dict().items()
                   if k.startswith('student.')}
        teacher = {k[8:]: v for k, v in official.state_dict().items()
                   if k.startswith('teacher.')}
        state, _ = converter.convert_pretrain(student, teacher)
        rules = [(r'student\.' + pattern, template) for pattern, template
                 in converter.pretrain_rules('backbone.', 'neck.')]
    model = build_model(config)
    model.load_state_dict(state, strict=True)
    official.train()
    model.train()
    data, batch = same_batch(bench, step, method, config, model)

    ours = model.loss(data['inputs'], data['data_samples'])['loss']
    theirs = official.loss(batch)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)
    ours.backward()
    theirs.backward()
    assert_same_gradients(official, model, rules, key_mapping)


def test_official_step_runs_the_ema_where_the_method_does():
    _, _, official_steps, _ = load_official('conmim')
    cfg = Config.fromfile(CONMIM_DEMO_CONFIG)
    official = official_steps.ConMIMOfficial.from_config(cfg.model)
    step = official_steps.OfficialStep(
        official, lr=1e-3, betas=(0.9, 0.98), weight_decay=0.05,
        clip_grad=1.0, amp=False)
    image = torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 64, dtype=torch.bool)
    mask[:, :40] = True
    before = official.teacher.blocks[0].attn.qkv.weight.clone()
    step(dict(student_view=image, teacher_view=image, mask=mask), 0.9)
    # After the optimizer step: t <- 0.9 t + 0.1 s_new.
    expected = 0.9 * before + 0.1 * official.student.blocks[0].attn.qkv.weight
    torch.testing.assert_close(official.teacher.blocks[0].attn.qkv.weight,
                               expected)


def test_official_siameseim_ema_pairs_every_momentum_parameter():
    _, _, official_steps, _ = load_official('siameseim')
    official = official_steps.SiameseIMOfficial.from_config(
        Config.fromfile(DEMO_CONFIG).model)
    pairs = official.ema_pairs()
    momentum = [p for n, p in official.named_parameters()
                if n.startswith('mm_')]
    assert len(pairs) == len(momentum) > 0
    assert all(t.shape == o.shape and t is not o for t, o in pairs)
