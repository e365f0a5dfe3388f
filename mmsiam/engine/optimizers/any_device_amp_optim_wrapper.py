from contextlib import contextmanager

import torch
from mmengine.optim import AmpOptimWrapper
from mmengine.optim import OptimWrapper
from torch import nn

from mmsiam.models.utils import run_after_skipped_step
from mmsiam.registry import OPTIM_WRAPPERS

from .sharded_grad_scaler import FusedOptimizerShardedGradScaler


def grad_scaler(loss_scale='dynamic', use_fsdp: bool = False,
                device: str = 'cpu'):
    """A ``GradScaler`` on ``device`` from mmengine's ``loss_scale`` option:
    ``'dynamic'`` (torch's defaults), a float (a fixed scale) or a dict of
    ``GradScaler`` arguments; under FSDP (``use_fsdp``) a
    :class:`FusedOptimizerShardedGradScaler`."""
    if use_fsdp:

        def scaler(**kwargs):
            return FusedOptimizerShardedGradScaler(device=device, **kwargs)
    else:

        def scaler(**kwargs):
            return torch.amp.GradScaler(device, **kwargs)

    if loss_scale == 'dynamic':
        return scaler()
    if isinstance(loss_scale, float):
        return scaler(init_scale=loss_scale)
    if isinstance(loss_scale, dict):
        return scaler(**loss_scale)
    raise TypeError('loss_scale must be "dynamic", a float or a dict, got '
                    f'{loss_scale!r}')


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(AmpOptimWrapper):
    """Mixed precision on any device.

    With CUDA this is mmengine's ``AmpOptimWrapper`` (fp16 autocast,
    ``GradScaler``). Without CUDA (mmengine's wrapper refuses to start
    there) it trains with bfloat16 autocast on the CPU and no loss scaling,
    which bfloat16's float32 exponent range makes unnecessary, so that the
    paper configs' AMP settings also run in CPU tests and demos;
    ``dtype='float16'`` on the CPU runs fp16 autocast with a CPU
    ``GradScaler``, the GPU recipe's loss scaling. Checkpoints move
    between the two: a saved ``loss_scaler`` state is ignored without a
    scaler, and a missing one leaves the scaler at its start. Under FSDP
    (``use_fsdp``) the scaler is a :class:`FusedOptimizerShardedGradScaler`
    on either device (torch's ``ShardedGradScaler`` fails with fused
    optimizers).

    A step that the scaler skips for non-finite gradients still counts as
    an optimizer step for the callbacks of
    :func:`mmsiam.models.utils.call_after_optimizer_steps` (ConMIM's
    teacher takes its EMA step after every iteration, skipped or not, as
    in the official code); torch's optimizer step hooks do not see it.

    Its own name, so that it does not shadow mmengine's ``AmpOptimWrapper``
    under the ``mmsiam`` scope: ``type='AnyDeviceAmpOptimWrapper'`` (from
    mmdet / mmseg / mmpretrain configs ``'mmsiam.AnyDeviceAmpOptimWrapper'``);
    the pretraining and fine-tuning configs and ``tools/train.py --amp``
    use it.
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
            if use_fsdp:
                # mmengine's is torch's ShardedGradScaler, which breaks
                # fused optimizers (FusedOptimizerShardedGradScaler).
                self.loss_scaler = grad_scaler(loss_scale, True, 'cuda')
        else:
            OptimWrapper.__init__(self, **kwargs)
            self._scale_update_param = None
            if dtype in (None, 'bfloat16', torch.bfloat16):
                self.loss_scaler = None
                self.cast_dtype = torch.bfloat16
            elif dtype in ('float16', torch.float16):
                self.loss_scaler = grad_scaler(loss_scale, use_fsdp)
                if isinstance(loss_scale, float):
                    self._scale_update_param = loss_scale
                self.cast_dtype = torch.float16
            else:
                raise ValueError(
                    f'AnyDeviceAmpOptimWrapper: dtype={dtype} is not '
                    'supported on the CPU; use bfloat16 (default) or '
                    'float16 (with loss scaling)')
        self.optimizer_steps = 0
        self.optimizer.register_step_post_hook(self._count_optimizer_step)

    def _count_optimizer_step(self, optimizer, args, kwargs) -> None:
        self.optimizer_steps += 1

    @property
    def scales_loss(self) -> bool:
        """Whether a ``GradScaler`` scales the loss (fp16)."""
        return self.loss_scaler is not None

    def backward(self, loss: torch.Tensor, **kwargs):
        if not self.scales_loss:
            return OptimWrapper.backward(self, loss, **kwargs)
        return super().backward(loss, **kwargs)

    def step(self, **kwargs):
        if not self.scales_loss:
            return OptimWrapper.step(self, **kwargs)
        steps = self.optimizer_steps
        super().step(**kwargs)
        if self.optimizer_steps == steps:
            run_after_skipped_step(self.optimizer)

    def state_dict(self) -> dict:
        if not self.scales_loss:
            return OptimWrapper.state_dict(self)
        return super().state_dict()

    def load_state_dict(self, state_dict: dict):
        if not self.scales_loss:
            state_dict = dict(state_dict)
            state_dict.pop('loss_scaler', None)
            return OptimWrapper.load_state_dict(self, state_dict)
        return super().load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        if torch.cuda.is_available():
            with super().optim_context(model):
                yield
            return
        with OptimWrapper.optim_context(self, model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield
