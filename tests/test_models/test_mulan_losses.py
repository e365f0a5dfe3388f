"""MULAN's pair losses against their formulas: MoCo v3 InfoNCE with targets
gathered over 2 gloo processes, and SimSiam's stop-gradient copy target."""
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from mmengine.logging import MessageHub

from helpers import build_model, demo_config, mulan_samples
from mmsiam.models.losses import MoCoV3PairLoss

SIMSIAM_DEMO = demo_config('mulan-simsiam')
MOCOV3_DEMO = demo_config('mulan-mocov3')


def mocov3_reference(pred, keys, offset, temperature):
    """CE of normalised pred against all normalised keys, positive at
    ``offset + i``, times 2T, in float64, one row at a time."""
    keys = F.normalize(keys.double(), dim=1)
    terms = []
    for i, p in enumerate(F.normalize(pred.double(), dim=1)):
        logits = keys @ p / temperature
        terms.append(torch.logsumexp(logits, 0) - logits[offset + i])
    return torch.stack(terms).mean() * 2 * temperature


def _worker(rank, init_file, results):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    try:
        torch.manual_seed(rank)
        pred, target = torch.randn(3, 8), torch.randn(3, 8)
        results[rank] = (pred, target, MoCoV3PairLoss(0.2)(pred, target))
    finally:
        dist.destroy_process_group()


def test_mocov3_gathers_targets_of_all_processes(tmp_path):
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_worker, args=(str(tmp_path / 'rendezvous'), results),
             nprocs=2, join=True)
    keys = torch.cat([results[0][1], results[1][1]])
    for rank in (0, 1):
        pred, _, loss = results[rank]
        expected = mocov3_reference(pred, keys, 3 * rank, 0.2)
        assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_mocov3_single_process_and_reference_values():
    torch.manual_seed(0)
    pred, target = torch.randn(5, 8), torch.randn(5, 8)
    loss = MoCoV3PairLoss(1.0)(pred, target)
    assert loss.item() == pytest.approx(
        mocov3_reference(pred, target, 0, 1.0).item(), rel=1e-6)
    # Uninformative features: 2 T ln(batch).
    same = torch.ones(6, 4)
    assert MoCoV3PairLoss(1.0)(same, same).item() == pytest.approx(
        2 * torch.log(torch.tensor(6.)).item(), rel=1e-6)


def test_simsiam_target_is_a_fresh_copy_every_step():
    """Parameters and buffers copied before the target forward; -cos terms
    with weights 0.333."""
    MessageHub.get_current_instance().update_info('max_iters', 100)
    model = build_model(SIMSIAM_DEMO)
    model.train()
    with torch.no_grad():
        for param in model.backbone.parameters():
            param.add_(0.05)
        model.backbone.bn1.running_mean.add_(1.)
    torch.manual_seed(0)
    views = [torch.randn(4, 3, s, s) for s in (64, 64, 32, 32, 64)]
    online_before = {k: v.clone() for k, v in model.backbone.state_dict()
                     .items()}
    losses = model.loss(views, mulan_samples(4))
    target = model.target.module[0].state_dict()
    for name, value in online_before.items():
        if 'running' in name or 'num_batches' in name:
            continue  # the target's own forwards moved its statistics
        assert torch.equal(target[name], value), name
    # Buffers were copied (online running mean 1) before the target's two
    # forwards (momentum 0.1 each) moved them: about 0.81 of 1 is left.
    assert target['bn1.running_mean'].mean().item() > 0.5
    assert model.head.task_weights == dict(
        {'global': 0.333, 'local': 0.333, 'cutout': 0.333})
    for value in losses.values():
        assert -0.333 - 1e-6 <= value.item() <= 0.333 + 1e-6


def test_mocov3_model_loss_in_one_process():
    MessageHub.get_current_instance().update_info('max_iters', 100)
    model = build_model(MOCOV3_DEMO)
    model.train()
    torch.manual_seed(0)
    views = [torch.randn(4, 3, s, s) for s in (64, 64, 32, 32, 64)]
    losses = model.loss(views, mulan_samples(4))
    assert set(losses) == {'loss_global', 'loss_local', 'loss_cutout'}
    for value in losses.values():
        assert 0 < value.item() < 2 * torch.log(torch.tensor(4.)) + 1


def test_simsiam_loss_formula_on_a_hand_built_case():
    model = build_model(SIMSIAM_DEMO)
    torch.manual_seed(1)
    targets = [torch.randn(3, 6), torch.randn(3, 6)]
    model.head.predictors = torch.nn.ModuleDict(
        {task: torch.nn.Identity() for task in model.head.predictors})
    projections = [torch.randn(3, 6) for _ in range(5)]
    losses = model.head.loss(projections, targets,
                             ['global', 'global', 'local', 'local', 'cutout'])
    predictions = {'global': projections[:2], 'local': projections[2:4],
                   'cutout': projections[4:]}

    def term(p, z):
        return -F.cosine_similarity(p.double(), z.double()).mean()

    g, c = predictions['global'], predictions['cutout'][0]
    expected = {
        'loss_global': 0.333 * (term(g[0], targets[1]) +
                                term(g[1], targets[0])) / 2,
        'loss_local': 0.333 * sum(term(v, z) for v in predictions['local']
                                  for z in targets) / 4,
        'loss_cutout': 0.333 * (term(c, targets[0]) +
                                term(c, targets[1])) / 2,
    }
    for key, value in expected.items():
        assert losses[key].item() == pytest.approx(value.item(), rel=1e-6)
