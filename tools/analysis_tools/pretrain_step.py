"""What the step benchmarks share: a batch made by a config's own training
pipeline, the model and optimizer wrapper of the config, the FLOPs of a
step, the peak memory of the training itself and the machine's measured
matmul rate."""
import re
import time

import numpy as np
import torch
from mmengine import DefaultScope
from mmengine.dataset import default_collate
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from torch.utils.flop_counter import FlopCounterMode

from mmsiam.datasets import unwrap_seeded
from mmsiam.registry import MODELS, TRANSFORMS

# Dense bf16 / fp16 tensor-core peaks (TFLOP/s) of common training GPUs,
# from the vendors' data sheets (SXM parts; PCIe parts are lower).
NOMINAL_GPU_PEAK_TFLOPS = {
    'H200': 989., 'H100': 989., 'A100': 312., 'A800': 312., 'L40S': 362.,
    'A10': 125., 'V100': 125., 'RTX 4090': 165., 'RTX 3090': 71.,
}


def make_batch(cfg, batch_size: int, image_size: int, seed: int = 0):
    """Pack ``batch_size`` random ``image_size``-pixel images with the
    config's training pipeline (loading dropped): the views, masks and
    fields the method trains on."""
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    dataset = unwrap_seeded(cfg.train_dataloader.dataset)
    pipeline = [
        TRANSFORMS.build(t) for t in dataset.pipeline
        if t['type'] not in ('LoadImageFromFile', 'LoadImageOrSkip')
    ]
    samples = []
    for _ in range(batch_size):
        results = dict(
            img=rng.integers(0, 256, (image_size, image_size, 3),
                             dtype=np.uint8))
        for transform in pipeline:
            results = transform(results)
        samples.append(results)
    return default_collate(samples)


# Autocast dtypes of the precisions the step tools take; 'amp' is the
# AMP of the paper configs (fp16 with a GradScaler on CUDA, bf16 on CPU).
AMP_DTYPES = dict(amp=None, fp16='float16', bf16='bfloat16')


def optim_wrapper_cfg(cfg, precision: str) -> dict:
    """The config's optimizer wrapper in ``precision``: ``'fp32'`` (plain
    ``OptimWrapper``), ``'amp'``, ``'fp16'`` (a GradScaler with the
    config's ``loss_scale``, dynamic by default) or ``'bf16'`` autocast
    (``AnyDeviceAmpOptimWrapper``, on CUDA or CPU)."""
    wrapper_cfg = dict(cfg.optim_wrapper)
    if precision == 'fp32':
        wrapper_cfg['type'] = 'OptimWrapper'
        for key in ('loss_scale', 'dtype'):
            wrapper_cfg.pop(key, None)
        return wrapper_cfg
    wrapper_cfg['type'] = 'AnyDeviceAmpOptimWrapper'
    if AMP_DTYPES[precision] is not None:
        wrapper_cfg['dtype'] = AMP_DTYPES[precision]
    return wrapper_cfg


def build_model(cfg, device: torch.device, max_iters: int):
    """The config's model, initialised, in train mode; ``max_iters`` sets
    the EMA schedule's length."""
    MessageHub.get_current_instance().update_info('max_iters', max_iters)
    with DefaultScope.overwrite_default_scope('mmsiam'):
        model = MODELS.build(cfg.model).to(device)
        model.init_weights()
    return model.train()


def build_training(cfg, amp: bool, device: torch.device, max_iters: int):
    """The config's model (:func:`build_model`) and optimizer wrapper, AMP
    (bf16 autocast on CPU) or plain fp32."""
    model = build_model(cfg, device, max_iters)
    with DefaultScope.overwrite_default_scope('mmsiam'):
        optim_wrapper = build_optim_wrapper(
            model, optim_wrapper_cfg(cfg, 'amp' if amp else 'fp32'))
    return model, optim_wrapper


def flops_of(step) -> int:
    """FLOPs of one call of ``step`` (``torch.utils.flop_counter``)."""
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def _proc_status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        return int(re.search(rf'^{field}:\s+(\d+) kB', f.read(), re.M)[1])


class PeakMemory:
    """Peak memory of what runs after :meth:`reset`.

    CUDA: ``torch.cuda.max_memory_allocated``. CPU: the process's peak
    resident set (``VmHWM``, reset through ``/proc/self/clear_refs``) minus
    the resident set at the reset, i.e. the memory the model, optimizer
    state and activations take on top of the imported libraries.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.baseline_kib = 0

    def reset(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            return
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        self.baseline_kib = _proc_status_kib('VmRSS')

    def peak_mib(self) -> float:
        if self.device.type == 'cuda':
            return torch.cuda.max_memory_allocated() / 2**20
        return (_proc_status_kib('VmHWM') - self.baseline_kib) / 1024

    @property
    def kind(self) -> str:
        return ('allocated' if self.device.type == 'cuda' else
                'resident, above the libraries')


def matmul_peak_gflops(device: torch.device, dtype: torch.dtype,
                       max_size: int = 4096, budget_s: float = 0.5) -> float:
    """The best rate of square matmuls in ``dtype`` on ``device``, sizes
    256, 512, ... up to ``max_size`` while one product takes less than
    ``budget_s`` (a CPU without bf16 units runs bf16 products 10-1000x
    slower than fp32): this process's practical matmul peak."""
    best, size = 0., 256
    while size <= max_size:
        a = torch.randn(size, size, device=device).to(dtype)
        b = torch.randn(size, size, device=device).to(dtype)
        seconds = float('inf')
        for _ in range(3):
            if device.type == 'cuda':
                torch.cuda.synchronize()
            start = time.perf_counter()
            torch.mm(a, b)
            if device.type == 'cuda':
                torch.cuda.synchronize()
            seconds = min(seconds, time.perf_counter() - start)
        best = max(best, 2 * size**3 / seconds / 1e9)
        if seconds > budget_s:
            break
        size *= 2
    return best


def nominal_peak_tflops(device: torch.device):
    """The data-sheet dense bf16 peak of this CUDA device, or None."""
    if device.type != 'cuda':
        return None
    name = torch.cuda.get_device_name(device)
    for key, tflops in NOMINAL_GPU_PEAK_TFLOPS.items():
        if key in name:
            return tflops
    return None
