"""AnyDeviceSyncBatchNorm: 2 gloo processes with batch 2 each give the
outputs, gradients and running statistics of 1 process with batch 4."""
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmsiam.models.layers import AnyDeviceSyncBatchNorm

SHAPE = (4, 3, 5, 6)  # the whole batch of 4


def whole_batch():
    torch.manual_seed(0)
    # an offset mean, so that the variance is not the raw second moment
    return torch.randn(SHAPE, dtype=torch.float64) * 2 + 5


def bn(cls):
    torch.manual_seed(1)
    layer = cls(3, momentum=0.3).double()
    torch.nn.init.normal_(layer.weight)
    torch.nn.init.normal_(layer.bias)
    return layer.train()


def _worker(rank, init_file, results):
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    try:
        layer = bn(AnyDeviceSyncBatchNorm)
        x = whole_batch()[2 * rank:2 * rank + 2].requires_grad_(True)
        out = layer(x)
        torch.manual_seed(2)
        upstream = torch.randn(SHAPE, dtype=torch.float64)
        out.backward(upstream[2 * rank:2 * rank + 2])
        results[rank] = dict(out=out.detach(), grad=x.grad,
                             weight=layer.weight.grad, bias=layer.bias.grad,
                             mean=layer.running_mean,
                             var=layer.running_var)
    finally:
        dist.destroy_process_group()


def test_two_processes_of_2_equal_one_process_of_4(tmp_path):
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_worker, args=(str(tmp_path / 'rendezvous'), results),
             nprocs=2, join=True)
    layer = bn(torch.nn.BatchNorm2d)
    x = whole_batch().requires_grad_(True)
    out = layer(x)
    torch.manual_seed(2)
    out.backward(torch.randn(SHAPE, dtype=torch.float64))
    got = [results[0], results[1]]
    close = dict(rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(torch.cat([r['out'] for r in got]),
                               out.detach(), **close)
    torch.testing.assert_close(torch.cat([r['grad'] for r in got]), x.grad,
                               **close)
    # Parameter gradients are each process's share; DDP sums them.
    torch.testing.assert_close(got[0]['weight'] + got[1]['weight'],
                               layer.weight.grad, **close)
    torch.testing.assert_close(got[0]['bias'] + got[1]['bias'],
                               layer.bias.grad, **close)
    for r in got:
        torch.testing.assert_close(r['mean'], layer.running_mean, **close)
        torch.testing.assert_close(r['var'], layer.running_var, **close)


def test_one_process_and_eval_are_a_plain_batch_norm():
    ours, theirs = bn(AnyDeviceSyncBatchNorm), bn(torch.nn.BatchNorm2d)
    x = whole_batch()
    torch.testing.assert_close(ours(x), theirs(x))
    torch.testing.assert_close(ours.running_var, theirs.running_var)
    ours.eval(), theirs.eval()
    torch.testing.assert_close(ours(x), theirs(x))


def test_batch_norms_are_converted_with_their_tensors():
    """What AnyDeviceDistributedDataParallel does to its module."""
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 1), torch.nn.BatchNorm2d(4),
        torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4)))
    before = model.state_dict(keep_vars=True)
    converted = AnyDeviceSyncBatchNorm.convert_batch_norms(model)
    assert converted is model
    assert isinstance(model[1], AnyDeviceSyncBatchNorm)
    assert isinstance(model[2][1], AnyDeviceSyncBatchNorm)
    after = model.state_dict(keep_vars=True)
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    # Only torch's SyncBatchNorm layers when asked for that kind.
    mixed = torch.nn.Sequential(torch.nn.SyncBatchNorm(4),
                                torch.nn.BatchNorm2d(4))
    AnyDeviceSyncBatchNorm.convert_batch_norms(mixed, torch.nn.SyncBatchNorm)
    assert isinstance(mixed[0], AnyDeviceSyncBatchNorm)
    assert type(mixed[1]) is torch.nn.BatchNorm2d
