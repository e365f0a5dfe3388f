"""UniGrad's second-moment matrix is averaged over processes (2 x gloo)."""
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmsiam.models.losses import UniGradLoss


def _worker(rank, init_file, results):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    try:
        torch.manual_seed(rank)
        pred, target = torch.randn(2, 5, 6), torch.randn(2, 5, 6)
        results[rank] = (pred, target, UniGradLoss(0.02)(pred, target))
    finally:
        dist.destroy_process_group()


def test_second_moment_is_averaged_over_processes(tmp_path):
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_worker, args=(str(tmp_path / 'rendezvous'), results),
             nprocs=2, join=True)
    flat = {r: (p.reshape(-1, 6).double(), t.reshape(-1, 6).double())
            for r, (p, t, _) in results.items()}
    second_moment = sum(t.T @ t / t.shape[0] for _, t in flat.values()) / 2
    for rank, (pred, target) in flat.items():
        pos = ((pred - target)**2).sum(-1).mean()
        neg = torch.diagonal(pred @ second_moment @ pred.T).mean()
        expected = (pos + 0.02 * neg) / 6
        assert abs(results[rank][2].item() - expected.item()) < 1e-6
