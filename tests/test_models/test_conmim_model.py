"""ConMIM parts against the spec: cell masks, the BEiT encoder and its init,
the token projector, the patch-contrast loss and the teacher's EMA."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper
from mmpretrain.datasets.transforms import SimMIMMaskGenerator

from helpers import CONMIM_DEMO_CONFIG, REPO, build_model, num_parameters
from mmsiam.registry import MODELS, TRANSFORMS
from mmsiam.utils import register_all_modules

CONFIGS = osp.join(REPO, 'configs', 'conmim')
PAPER = osp.join(CONFIGS, 'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py')
DEMO = CONMIM_DEMO_CONFIG
SMALL = osp.join(CONFIGS, 'conmim_vit-small-p16_32xb64-amp-coslr-300e_in1k.py')
LARGE = osp.join(CONFIGS,
                 'conmim_vit-large-p16_32xb64-amp-coslr-1600e_in1k.py')
# Truncating N(0, s) at +-s leaves a standard deviation of s * this.
ONE_STD_TRUNCATED = math.sqrt(1 - 2 * math.exp(-0.5) / math.sqrt(2 * math.pi)
                              / math.erf(1 / math.sqrt(2)))


# ----- masks and views -----
def test_cell_mask_masks_148_of_196_in_2x2_cells():
    mask_gen = TRANSFORMS.build(
        dict(type='SimMIMCellMaskGenerator', input_size=224,
             mask_patch_size=32, model_patch_size=16, mask_ratio=0.75))
    np.random.seed(0)
    for _ in range(100):
        mask = mask_gen({})['mask']
        assert mask.dtype == bool and mask.shape == (14, 14)
        assert mask.sum() == 148
        cells = mask.reshape(7, 2, 7, 2)
        assert (cells == cells[:, :1, :, :1]).all()


def test_cell_mask_is_mmpretrain_simmim_bit_for_bit():
    ours = TRANSFORMS.build(dict(type='SimMIMCellMaskGenerator'))
    reference = SimMIMMaskGenerator(224, 32, 16, 0.75)
    for seed in range(20):
        np.random.seed(seed)
        mine = ours({})['mask']
        np.random.seed(seed)
        theirs = reference({})['mask']
        assert np.array_equal(mine, theirs.astype(bool))


def test_cell_mask_rejects_sizes_that_do_not_tile():
    with pytest.raises(ValueError, match='multiple of mask_patch_size'):
        TRANSFORMS.build(dict(type='SimMIMCellMaskGenerator', input_size=200))


def test_paper_pipeline_packs_the_contract():
    """One shared flip + crop, then [weak student, strong teacher] views of
    that crop, a 148-patch mask, packed as ConMIM.loss expects."""
    register_all_modules()
    cfg = Config.fromfile(PAPER)
    steps = cfg.train_dataloader.dataset.dataset.pipeline
    types = [t['type'] for t in steps]
    assert types.index('RandomResizedCrop') < types.index('MultiViewWithKeys')
    views = steps[types.index('MultiViewWithKeys')]
    assert views['transforms'][0] == []  # the student view is the crop
    assert [t['type'] for t in views['transforms'][1]] == [
        'RandomApply', 'PILRandomGrayscale', 'PILGaussianBlur', 'PILSolarize']
    pipeline = [TRANSFORMS.build(t) for t in steps[1:]]
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(3):
        results = dict(img=rng.integers(0, 256, (300, 260, 3), np.uint8))
        for transform in pipeline:
            results = transform(results)
        samples.append(results)
    batch = default_collate(samples)
    student, teacher = batch['inputs']
    assert student.shape == teacher.shape == (3, 3, 224, 224)
    mask = torch.stack([ds.mask for ds in batch['data_samples']])
    assert mask.dtype == torch.bool and mask.shape == (3, 14, 14)
    assert mask.flatten(1).sum(1).tolist() == [148] * 3


# ----- encoder -----
def test_backbone_structure_and_parameter_counts():
    model = build_model(PAPER, init=False)
    backbone = model.backbone
    assert backbone.pos_embed is None
    assert backbone.rel_pos_bias.relative_position_bias_table.shape == (732,
                                                                        12)
    assert backbone.rel_pos_bias.relative_position_index.shape == (197, 197)
    layer = backbone.layers[0]
    assert layer.attn.qkv.bias is None
    assert layer.attn.relative_position_bias_table is None
    assert {n for n, _ in layer.attn.named_parameters()} >= {'q_bias',
                                                              'v_bias'}
    # The spec's counts (lm_head, never used, is not built).
    assert num_parameters(backbone) == 85_666_128
    assert num_parameters(layer) == 7_088_640
    assert num_parameters(model.neck) == 20_987_904
    assert num_parameters(model.target) == (num_parameters(backbone) +
                                            num_parameters(model.neck))
    assert not any(p.requires_grad for p in model.target.parameters())


@pytest.mark.parametrize('option', ['use_abs_pos_emb', 'use_rel_pos_bias'])
def test_position_encoding_options_are_refused_by_name(option):
    with pytest.raises(ValueError, match=f'ConMIMViT: {option} cannot be '
                       'set in model.backbone'):
        MODELS.build(dict(type='ConMIMViT', arch='small', img_size=64,
                          patch_size=8, **{option: True}))


@pytest.mark.parametrize('config,backbone,projector', [
    (SMALL, 21_599_400, 19_415_040),
    (LARGE, 303_137_216, 22_036_480),
])
def test_other_sizes_parameter_counts(config, backbone, projector):
    with torch.device('meta'):
        model = build_model(config, init=False)
    assert num_parameters(model.backbone) == backbone
    assert num_parameters(model.neck) == projector


def test_beit_init_statistics():
    torch.manual_seed(0)
    model = build_model(PAPER)
    backbone, std = model.backbone, 0.02
    assert backbone.rel_pos_bias.relative_position_bias_table.abs().sum() == 0
    for token in (backbone.cls_token, backbone.mask_token):
        assert token.abs().max() <= std and token.abs().max() > 0.9 * std
    for i, layer in enumerate(backbone.layers, start=1):
        assert torch.all(layer.gamma_1 == 0.1)
        assert torch.all(layer.gamma_2 == 0.1)
        assert layer.attn.q_bias.abs().sum() == 0
        assert layer.attn.v_bias.abs().sum() == 0
        rescaled = math.sqrt(2 * i)
        for linear, scale in [(layer.attn.qkv, 1.),
                              (layer.ffn.layers[0][0], 1.),
                              (layer.attn.proj, rescaled),
                              (layer.ffn.layers[1], rescaled)]:
            weight = linear.weight.detach().double()
            bound = std / scale
            assert weight.abs().max() <= bound * (1 + 1e-6)
            assert weight.std().item() == pytest.approx(
                bound * ONE_STD_TRUNCATED, rel=0.02)
            if linear.bias is not None:
                assert linear.bias.abs().sum() == 0
        assert torch.all(layer.ln1.weight == 1)
        assert layer.ln1.bias.abs().sum() == 0
    patch = backbone.patch_embed.projection.weight.detach().double()
    assert patch.abs().max() <= std
    assert patch.std().item() == pytest.approx(std * ONE_STD_TRUNCATED,
                                               rel=0.02)
    for name in ('fc0', 'fc1', 'fc2'):
        weight = getattr(model.neck, name).weight.detach().double()
        assert weight.abs().max() <= std
        assert weight.std().item() == pytest.approx(std * ONE_STD_TRUNCATED,
                                                    rel=0.02)
    assert torch.all(model.neck.bn0.weight == 1)
    assert model.neck.bn2.weight is None  # last BN without affine
    # The teacher starts as an exact copy, buffers included.
    teacher = dict(model.target.module[0].state_dict())
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(teacher[key], value), key


def test_masked_patches_are_replaced_by_the_mask_token():
    torch.manual_seed(0)
    model = build_model(DEMO)
    backbone = model.backbone
    backbone.eval()
    images = torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 8, 8, dtype=torch.bool)
    mask[0, :3, 2:6] = True
    mask[1, 5:, :] = True
    # Pixels under masked patches do not matter ...
    pixel_mask = mask.repeat_interleave(8, 1).repeat_interleave(8, 2)
    changed = images + 5 * pixel_mask[:, None] * torch.randn_like(images)
    out = backbone(images, mask)[0]
    assert out.shape == (2, 65, 96)
    assert torch.allclose(backbone(changed, mask)[0], out, atol=1e-6)
    # ... and without a mask they do.
    assert not torch.allclose(backbone(changed)[0], backbone(images)[0],
                              atol=1e-3)


# ----- projector -----
def test_projector_runs_on_all_tokens_and_drops_cls():
    torch.manual_seed(0)
    model = build_model(DEMO)
    neck = model.neck.train()
    tokens = torch.randn(3, 65, 96)
    out = neck(tokens)
    assert out.shape == (3, 64, 128)
    # BatchNorm statistics are over all 3 * 65 tokens, cls included.
    flat = tokens.reshape(-1, 96)
    hidden = F.relu(F.batch_norm(flat @ neck.fc0.weight.T, None, None,
                                 neck.bn0.weight, neck.bn0.bias, True))
    hidden = F.relu(F.batch_norm(hidden @ neck.fc1.weight.T, None, None,
                                 neck.bn1.weight, neck.bn1.bias, True))
    expected = F.batch_norm(hidden @ neck.fc2.weight.T, None, None, None,
                            None, True)
    expected = expected.reshape(3, 65, 128)[:, 1:]
    assert torch.allclose(out, expected, atol=1e-5)


# ----- loss -----
def direct_patch_infonce(pred, target, mask, temperature):
    """The spec's loss, one masked token at a time, in float64."""
    losses = []
    for b in range(pred.shape[0]):
        keys = F.normalize(target[b].double(), dim=-1)
        for j in torch.nonzero(mask[b]).flatten().tolist():
            query = F.normalize(pred[b, j].double(), dim=-1)
            logits = keys @ query / temperature
            losses.append(torch.logsumexp(logits, 0) - logits[j])
    return torch.stack(losses).mean()


def test_loss_equals_a_per_token_computation():
    torch.manual_seed(0)
    loss = MODELS.build(dict(type='PatchContrastLoss', temperature=0.1))
    pred, target = torch.randn(3, 16, 8), torch.randn(3, 16, 8)
    mask = torch.rand(3, 16) < 0.75
    mask[:, 0] = True
    expected = direct_patch_infonce(pred, target, mask, 0.1)
    assert loss(pred, target, mask).item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_loss_reference_values():
    loss = MODELS.build(dict(type='PatchContrastLoss'))
    mask = torch.ones(2, 196, dtype=torch.bool)
    constant = torch.ones(2, 196, 256)
    # Uninformative features: every patch equally likely.
    assert loss(constant, constant, mask).item() == pytest.approx(
        math.log(196), rel=1e-6)
    torch.manual_seed(0)
    pred, target = torch.randn(8, 196, 256), torch.randn(8, 196, 256)
    assert loss(pred, target, mask[:1].expand(8, -1)).item() == pytest.approx(
        5.45, abs=0.05)


def test_identical_student_and_teacher_give_the_self_match_loss():
    """Same weights, same unmasked input: the teacher reproduces the
    student, and the loss is that of every token against the others of its
    own image."""
    torch.manual_seed(0)
    model = build_model(DEMO).train()
    images = torch.randn(4, 3, 64, 64)
    no_mask = torch.zeros(4, 8, 8, dtype=torch.bool)
    student = model.neck(model.backbone(images, no_mask)[0])
    with torch.no_grad():
        teacher_encoder, teacher_projector = model.target.module
        teacher = teacher_projector(teacher_encoder(images)[0])
    assert torch.allclose(student, teacher, atol=1e-6)
    every_token = torch.ones(4, 64, dtype=torch.bool)
    loss = model.head.loss(student, teacher, every_token)
    features = F.normalize(student.detach().double(), dim=-1)
    logits = features @ features.transpose(1, 2) / 0.1
    labels = torch.arange(64).expand(4, -1)
    expected = F.cross_entropy(logits.flatten(0, 1), labels.flatten())
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.item() < math.log(64)


def test_model_loss_follows_the_packing_contract():
    torch.manual_seed(0)
    model = build_model(DEMO).train()
    from mmpretrain.structures import DataSample
    views = [torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)]
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[:, :6] = True
    samples = [DataSample(mask=m) for m in masks]
    running = model.target.module[1].bn0.running_mean.clone()
    losses = model.loss(views, samples)
    student = model.neck(model.backbone(views[0], masks)[0])
    with torch.no_grad():
        teacher = model.target.module[1](model.target.module[0](views[1])[0])
    expected = direct_patch_infonce(student.detach(), teacher,
                                    masks.flatten(1), 0.1)
    assert losses['loss'].item() == pytest.approx(expected.item(), rel=1e-5)
    # The teacher runs in train mode: its BatchNorms track statistics.
    assert not torch.equal(model.target.module[1].bn0.running_mean, running)
    with pytest.raises(ValueError, match='student_view, teacher_view'):
        model.loss(views[:1], samples)


# ----- teacher EMA -----
def test_momentum_schedule_values():
    model = build_model(DEMO)
    total = 1000
    MessageHub.get_current_instance().update_info('max_iters', total)
    for step, teacher_momentum in [(0, 0.996), (500, 0.998)]:
        model.target.steps.fill_(step)
        assert 1 - model.target.current_momentum() == pytest.approx(
            teacher_momentum, abs=1e-12)
    model.target.steps.fill_(total - 1)
    assert 0.9999 < 1 - model.target.current_momentum() < 1


def test_ema_step_averages_parameters_only():
    torch.manual_seed(0)
    model = build_model(DEMO)
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model.target.steps.fill_(3)
    with torch.no_grad():
        for param in model.backbone.parameters():
            param.add_(torch.randn_like(param))
        model.neck.bn0.running_mean.add_(1.)
    before = {k: v.clone() for k, v in model.target.state_dict().items()}
    online = dict(model.backbone.named_parameters())
    online.update(('n.' + k, v) for k, v in model.neck.named_parameters())
    used = model.momentum_update()
    teacher_momentum = 1 - 0.002 * (1 + math.cos(math.pi * 3 / 10))
    assert 1 - used == pytest.approx(teacher_momentum, abs=1e-12)
    for name, param in model.target.module[0].named_parameters():
        expected = (teacher_momentum * before[f'module.0.{name}'] +
                    (1 - teacher_momentum) * online[name])
        assert torch.allclose(param, expected, atol=1e-7), name
    # Buffers are the teacher's own; the EMA step leaves the iteration
    # count to update_target().
    assert torch.equal(model.target.module[1].bn0.running_mean,
                       before['module.1.bn0.running_mean'])
    assert int(model.target.steps) == 3


def test_the_teacher_steps_after_each_optimizer_step_only():
    """target_update='after_step': no hook in the config; the EMA runs after
    the step of the optimizer that updates the model (once per real step
    with accumulation) and not after another model's optimizer."""
    MessageHub.get_current_instance().update_info('max_iters', 10)
    model = build_model(DEMO).train()
    assert model.target_update == 'after_step'
    from mmpretrain.structures import DataSample
    views = [torch.randn(2, 3, 64, 64)] * 2
    samples = [DataSample(mask=torch.ones(8, 8, dtype=torch.bool))] * 2
    optim = OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    optim.initialize_count_status(model, 0, 4)
    other = torch.nn.Linear(2, 2)
    other_optim = torch.optim.SGD(other.parameters(), lr=0.1)
    steps = []
    for _ in range(4):
        optim.update_params(model.loss(views, samples)['loss'])
        other(torch.ones(1, 2)).sum().backward()
        other_optim.step()
        steps.append(int(model.target.steps))
    # Iterations counted; the EMA ran after iterations 1 and 3 (the two
    # optimizer steps), the last at the momentum of iteration 3 of 10.
    assert steps == [1, 2, 3, 4]
    assert MessageHub.get_current_instance().get_scalar(
        'train/momentum').current() == pytest.approx(
            0.004 * (1 + math.cos(3 * math.pi / 10)) / 2)
    # A loss outside training does not register or step anything.
    fresh = build_model(DEMO).eval()
    fresh.loss(views, samples)
    torch.optim.SGD(fresh.parameters(), lr=0.1).step()
    assert int(fresh.target.steps) == 0


def test_the_teacher_steps_after_a_skipped_amp_step():
    """A step that fp16 loss scaling skips for non-finite gradients leaves
    the student as it is and still moves the teacher toward it, as the
    official code's EMA after every ``loss_scaler`` call does."""
    from mmpretrain.structures import DataSample

    from mmsiam.engine import AnyDeviceAmpOptimWrapper
    MessageHub.get_current_instance().update_info('max_iters', 10)
    torch.manual_seed(0)
    model = build_model(DEMO).train()
    with torch.no_grad():  # a teacher away from the student
        for param in model.target.parameters():
            param.add_(0.1)
    views = [torch.randn(2, 3, 64, 64)] * 2
    samples = [DataSample(mask=torch.ones(8, 8, dtype=torch.bool))] * 2
    # A scale no fp16 gradient survives: every step is skipped.
    optim = AnyDeviceAmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        dtype='float16', loss_scale=dict(init_scale=2.**60))
    student = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    teacher = model.target.module[0].patch_embed.projection.weight.clone()
    with optim.optim_context(model):
        loss = model.loss(views, samples)['loss']
    optim.update_params(loss)
    assert optim.optimizer_steps == 0  # skipped
    assert optim.loss_scaler.get_scale() < 2.**60
    for key, value in model.backbone.state_dict().items():
        assert torch.equal(value, student[key]), key
    momentum = 0.004  # the online weight of iteration 0
    online = model.backbone.patch_embed.projection.weight
    torch.testing.assert_close(
        model.target.module[0].patch_embed.projection.weight,
        teacher + momentum * (online - teacher))
