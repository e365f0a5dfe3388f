from contextlib import contextmanager

import torch
from mmengine.optim import AmpOptimWrapper
from mmengine.optim import OptimWrapper
from torch import nn

from mmsiam.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(AmpOptimWrapper):
    """Mixed precision on any device.

    With CUDA this is mmengine's ``AmpOptimWrapper`` unchanged (fp16
    autocast, ``GradScaler``). Without CUDA (mmengine's wrapper refuses to
    start there) it trains with bfloat16 autocast on the CPU and no loss
    scaling, which bfloat16's float32 exponent range makes unnecessary, so
    that the paper configs' AMP settings also run in CPU tests and demos.
    Checkpoints move between the two: a saved ``loss_scaler`` state is
    ignored on the CPU, and a missing one leaves the scaler at its start.

    Its own name, so that it does not shadow mmengine's ``AmpOptimWrapper``
    under the ``mmsiam`` scope: ``type='AnyDeviceAmpOptimWrapper'`` (from
    mmdet / mmseg configs ``'mmsiam.AnyDeviceAmpOptimWrapper'``); the
    pretraining configs and ``tools/train.py --amp`` use it.
    """

    def __init__(self,
                 loss_scale='dynamic',
                 dtype=None,
                 use_fsdp: bool = False,
                 **kwargs):
        if torch.cuda.is_available():
            super().__init__(
                loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp,
                **kwargs)
            return
        OptimWrapper.__init__(self, **kwargs)
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(
                f'AnyDeviceAmpOptimWrapper: dtype={dtype} is not supported '
                'on the CPU; use bfloat16 (default)')
        self.loss_scaler = None
        self._scale_update_param = None
        self.cast_dtype = torch.bfloat16

    @property
    def on_cpu(self) -> bool:
        return self.loss_scaler is None

    def backward(self, loss: torch.Tensor, **kwargs):
        if self.on_cpu:
            return OptimWrapper.backward(self, loss, **kwargs)
        return super().backward(loss, **kwargs)

    def step(self, **kwargs):
        if self.on_cpu:
            return OptimWrapper.step(self, **kwargs)
        return super().step(**kwargs)

    def state_dict(self) -> dict:
        if self.on_cpu:
            return OptimWrapper.state_dict(self)
        return super().state_dict()

    def load_state_dict(self, state_dict: dict):
        if self.on_cpu:
            state_dict = dict(state_dict)
            state_dict.pop('loss_scaler', None)
            return OptimWrapper.load_state_dict(self, state_dict)
        return super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        if not self.on_cpu:
            with super().optim_context(model):
                yield
            return
        with OptimWrapper.optim_context(self, model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield
