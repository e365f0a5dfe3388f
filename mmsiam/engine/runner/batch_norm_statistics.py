from contextlib import contextmanager
from typing import Iterable, Iterator, List

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

RUNNING_STATISTICS = ('running_mean', 'running_var', 'num_batches_tracked')


def unestimated_batch_norms(module: nn.Module) -> List[_BatchNorm]:
    """BatchNorm layers of ``module`` whose running statistics never saw
    data (``num_batches_tracked == 0``: mean 0 and variance 1, so that in
    eval mode the layer applies only its affine transform), as before the
    first training iteration."""
    return [
        m for m in module.modules()
        if isinstance(m, _BatchNorm) and m.track_running_stats
        and int(m.num_batches_tracked) == 0
    ]


@contextmanager
def estimated_batch_norm_statistics(
        module: nn.Module, batch_norms: List[_BatchNorm],
        inputs: Iterable[Tensor]) -> Iterator[int]:
    """Within the block, ``batch_norms`` (layers of ``module``) hold the
    running statistics of ``module``'s forward on ``inputs``: the average
    over all inputs with equal weight per batch, as in PreciseBN (Wu and
    Johnson, "Rethinking 'Batch' in BatchNorm", 2021). Only these layers
    see the inputs in train mode; no weight changes. On exit the layers get
    their own statistics, momentum and mode back.

    Args:
        module (nn.Module): Called on each input, e.g. a backbone.
        batch_norms (list[_BatchNorm]): Layers of ``module`` to estimate.
        inputs (Iterable[Tensor]): Batches, e.g. ``(B, 3, H, W)`` images.

    Yields:
        int: The number of inputs the statistics were estimated from.
    """
    saved = [(bn.momentum, bn.training,
              [getattr(bn, name).clone() for name in RUNNING_STATISTICS])
             for bn in batch_norms]
    num_inputs = 0
    try:
        for bn in batch_norms:
            bn.reset_running_stats()
            bn.momentum = None  # cumulative moving average
            bn.train()
        with torch.no_grad():
            for batch in inputs:
                module(batch)
                num_inputs += 1
        for bn in batch_norms:
            bn.eval()
        yield num_inputs
    finally:
        for bn, (momentum, training, buffers) in zip(batch_norms, saved):
            bn.momentum = momentum
            bn.train(training)
            for name, value in zip(RUNNING_STATISTICS, buffers):
                getattr(bn, name).copy_(value)
