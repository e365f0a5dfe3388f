import time
from typing import Callable

import torch


def seconds_of(run: Callable[[], None], device: torch.device) -> float:
    """Wall seconds of one call of ``run``, with CUDA synchronised before
    and after it so that its kernels are counted on ``device``."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    run()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter() - start
