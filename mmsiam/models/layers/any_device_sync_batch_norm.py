from typing import Optional

import torch
import torch.distributed as dist
from mmengine.logging import print_log
from torch import Tensor, nn
from torch.distributed.nn.functional import all_reduce

from mmsiam.registry import MODELS


@MODELS.register_module()
class AnyDeviceSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Synchronised BatchNorm over any process group: gloo on CPU as well as
    NCCL on GPUs (torch's ``SyncBatchNorm`` runs on GPUs only).

    In training, with more than one process, the per-channel count and sum
    of the local batch, then the sum of squared deviations from the global
    mean, are summed over the processes with the autograd-aware
    ``all_reduce`` of ``torch.distributed.nn``, so
    the outputs, the gradients (of the inputs, weight and bias) and the
    running statistics (unbiased variance over the global batch) are those
    of one BatchNorm over the concatenated batch, as with torch's
    ``SyncBatchNorm``. In a single process and in eval mode it is a plain
    BatchNorm. Keys are a BatchNorm's (``weight``, ``bias``,
    ``running_mean``, ``running_var``, ``num_batches_tracked``).

    Without CUDA, distributed runs swap it in (:meth:`synchronise`) for
    torch's ``SyncBatchNorm`` layers and, for the runner key ``sync_bn``,
    for every BatchNorm: the DDP wrapper
    ``mmsiam.AnyDeviceDistributedDataParallel``
    (:func:`mmsiam.utils.prepare_distributed_env`) and
    ``mmsiam.MomentumTargetFSDPStrategy``.

    Args:
        num_features (int): Channels C.
        eps, momentum, affine, track_running_stats: As ``nn.BatchNorm2d``.
        process_group (ProcessGroup, optional): Defaults to the whole
            world.

    Shape: ``(B, C, *)`` -> the same, any number of trailing dims.
    """

    def __init__(self,
                 num_features: int,
                 eps: float = 1e-5,
                 momentum: Optional[float] = 0.1,
                 affine: bool = True,
                 track_running_stats: bool = True,
                 process_group=None,
                 **kwargs):
        super().__init__(num_features, eps, momentum, affine,
                         track_running_stats, **kwargs)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f'expected at least 2D input, got {input.dim()}D')

    def _synchronised(self) -> bool:
        return self.training and dist.is_available() and \
            dist.is_initialized() and dist.get_world_size(
                self.process_group) > 1

    def forward(self, x: Tensor) -> Tensor:
        self._check_input_dim(x)
        if not self._synchronised():
            return super().forward(x)
        dims = [0] + list(range(2, x.dim()))
        shape = [1, -1] + [1] * (x.dim() - 2)
        # bf16 / fp16 statistics in fp32, as torch's BatchNorm computes them
        xf = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
        count = torch.full((1, ), x.numel() / x.shape[1], device=x.device,
                           dtype=xf.dtype)
        # Two reductions, the second over centred values (no E[x^2] - E[x]^2
        # cancellation).
        stats = all_reduce(torch.cat([count, xf.sum(dims)]),
                           group=self.process_group)
        total, mean = stats[0], stats[1:] / stats[0]
        centred = xf - mean.view(shape)
        var = all_reduce(centred.pow(2).sum(dims),
                         group=self.process_group) / total  # biased
        if self.track_running_stats:
            self._update_running_stats(mean.detach(), var.detach(), total)
        out = centred * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            out = out * self.weight.view(shape) + self.bias.view(shape)
        return out.to(x.dtype)

    @torch.no_grad()
    def _update_running_stats(self, mean: Tensor, var: Tensor,
                              total: Tensor) -> None:
        """BatchNorm's running averages with the unbiased global
        variance."""
        self.num_batches_tracked += 1
        momentum = self.momentum
        if momentum is None:  # cumulative average
            momentum = 1. / float(self.num_batches_tracked)
        unbiased = var * total / (total - 1).clamp(min=1)
        self.running_mean.lerp_(mean.to(self.running_mean.dtype), momentum)
        self.running_var.lerp_(unbiased.to(self.running_var.dtype), momentum)

    @classmethod
    def synchronise(cls, module: nn.Module,
                    every_batch_norm: bool = False) -> nn.Module:
        """``module`` with torch's GPU-only ``SyncBatchNorm`` layers (with
        ``every_batch_norm``: every BatchNorm, the runner key ``sync_bn``)
        converted by :meth:`convert_batch_norms`; one log line counts
        them. The CPU model wrappers of distributed runs call it."""
        kind = (nn.modules.batchnorm._BatchNorm
                if every_batch_norm else nn.SyncBatchNorm)
        module = cls.convert_batch_norms(module, kind)
        converted = sum(isinstance(m, cls) for m in module.modules())
        if converted:
            print_log(
                f'{converted} '
                f'{"BatchNorm" if every_batch_norm else "SyncBatchNorm"} '
                'layers synchronise over the process group as '
                'AnyDeviceSyncBatchNorm (gloo included)', logger='current')
        return module

    @classmethod
    def convert_batch_norms(cls, module: nn.Module,
                            kind: type = nn.modules.batchnorm._BatchNorm
                            ) -> nn.Module:
        """``module`` with every BatchNorm of type ``kind`` (by default
        all: ``nn.BatchNorm1d/2d/3d``, torch's ``SyncBatchNorm``) replaced
        by this class, its parameters and buffers kept (the same tensors),
        in place where possible.

        Returns:
            nn.Module: ``module``, or its replacement if it is a BatchNorm.
        """
        if isinstance(module, kind) and not isinstance(module, cls):
            converted = cls(module.num_features, module.eps, module.momentum,
                            module.affine, module.track_running_stats)
            if module.affine:
                converted.weight = module.weight
                converted.bias = module.bias
            if module.track_running_stats:
                converted.running_mean = module.running_mean
                converted.running_var = module.running_var
                converted.num_batches_tracked = module.num_batches_tracked
            converted.train(module.training)
            return converted
        for name, child in module.named_children():
            module.add_module(name, cls.convert_batch_norms(child, kind))
        return module
