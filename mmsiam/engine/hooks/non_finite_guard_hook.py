import functools
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapperDict
from torch.nn.modules.batchnorm import _NormBase

from mmsiam.registry import HOOKS
from mmsiam.checkpoint.safe_loading import read_last_checkpoint

from ..runner_model import runner_model


class NonFiniteTrainingError(RuntimeError):
    """Training produced non-finite values too often to continue."""


def non_finite_losses(outputs: Optional[dict]) -> Dict[str, float]:
    """The logged values of a training step (``loss``, ``loss_*`` and other
    scalars) that are NaN or infinite."""
    bad = {}
    for name, value in (outputs or {}).items():
        value = torch.as_tensor(value).detach().float()
        if value.numel() and not torch.isfinite(value).all():
            bad[name] = float(value.flatten()[0])
    return bad


@HOOKS.register_module()
class NonFiniteGuardHook(Hook):
    """Skip training steps with a non-finite loss or gradient; stop cleanly
    when they persist.

    Before every optimizer step the gradients are checked (one reduction
    and one device sync per step); if any is NaN or infinite, every
    gradient is dropped, so the optimizer leaves parameters and moments as
    they were. Which parameters had non-finite gradients of their own is
    recorded right after backward, before gradient clipping spreads a NaN
    to all of them; in distributed runs a skip on any rank is a skip on
    every rank. The BatchNorm statistics (running mean / variance and count,
    of the online and the target branch) are snapshotted before each
    iteration and restored after a skipped one, since the forward pass of a
    poisoned batch already wrote them. Each skip is logged with the
    non-finite loss terms and the first parameters with non-finite
    gradients, and counted as ``skipped_steps``. A skipped step beyond
    ``max_skips`` in a row stops the run with
    :class:`NonFiniteTrainingError` before any further checkpoint is
    written, naming the last checkpoint (written from finite weights).

    With fp16 loss scaling, steps with overflowing gradients are the
    scaler's business (it skips them and lowers the scale); this hook then
    only counts steps whose loss itself is not finite.

    Args:
        max_skips (int): Consecutive skipped steps tolerated. Defaults to 5.
        max_names (int): Parameters named per log line. Defaults to 5.
    """
    priority = 'HIGH'

    def __init__(self, max_skips: int = 5, max_names: int = 5):
        if max_skips < 0:
            raise ValueError(f'NonFiniteGuardHook: max_skips must be >= 0, '
                             f'got {max_skips}')
        self.max_skips = max_skips
        self.max_names = max_names
        self.consecutive_skips = 0
        self.total_skips = 0
        self._dropped = False
        self._grad_finite: List[Tuple[str, torch.Tensor]] = []
        self._buffers: List[torch.Tensor] = []
        self._snapshot: List[torch.Tensor] = []

    def before_train(self, runner) -> None:
        model = runner_model(runner)
        self._buffers = [
            b for m in model.modules() if isinstance(m, _NormBase)
            for b in m.buffers(recurse=False)
        ]
        for name, param in model.named_parameters():
            if param.requires_grad:
                param.register_post_accumulate_grad_hook(
                    functools.partial(self._record_gradient, name))
        wrappers = (runner.optim_wrapper.optim_wrappers.values()
                    if isinstance(runner.optim_wrapper, OptimWrapperDict)
                    else [runner.optim_wrapper])
        for wrapper in wrappers:
            wrapper.optimizer.register_step_pre_hook(self._check_gradients)

    def _record_gradient(self, name: str, param: torch.Tensor) -> None:
        """After backward, before clipping and the optimizer: whether the
        parameter's gradient is finite (kept on the device, no sync)."""
        self._grad_finite.append((name, torch.isfinite(param.grad).all()))

    def _check_gradients(self, optimizer, args, kwargs) -> None:
        """Optimizer step pre-hook: drop every gradient if one is not
        finite (after DDP's all-reduce, so every rank decides alike)."""
        grads = [p.grad for group in optimizer.param_groups
                 for p in group['params'] if p.grad is not None]
        if not grads or torch.isfinite(torch.stack(
                torch._foreach_norm(grads))).all():
            return
        self._dropped = True
        for group in optimizer.param_groups:
            for p in group['params']:
                p.grad = None

    def _non_finite_gradients(self) -> List[str]:
        """Parameters whose own gradient was not finite in this step."""
        if not self._grad_finite:
            return []
        finite = torch.stack([f for _, f in self._grad_finite]).cpu()
        return [name for (name, _), ok in zip(self._grad_finite, finite)
                if not ok]

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._dropped = False
        self._grad_finite = []
        self._snapshot = [b.detach().clone() for b in self._buffers]

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        bad_losses = non_finite_losses(outputs)
        bad = torch.tensor(float(self._dropped or bool(bad_losses)))
        if get_world_size() > 1:  # a skip on any rank is a skip on all
            all_reduce(bad, op='max')
        if not bad:
            self.consecutive_skips = 0
            return
        bad_grads = self._non_finite_gradients()
        with torch.no_grad():
            for buffer, saved in zip(self._buffers, self._snapshot):
                buffer.copy_(saved)
        self.consecutive_skips += 1
        self.total_skips += 1
        what = []
        if bad_losses:
            what.append('loss ' + ', '.join(
                f'{k}={v}' for k, v in bad_losses.items()))
        if bad_grads:
            shown = ', '.join(bad_grads[:self.max_names])
            more = len(bad_grads) - self.max_names
            what.append(f'gradients of {len(bad_grads)} parameters '
                        f'({shown}{f", +{more} more" if more > 0 else ""})')
        if not what:
            what.append('values on another process')
        message = (f'iteration {runner.iter + 1}: non-finite {"; ".join(what)}'
                   f'; step skipped ({self.consecutive_skips} in a row, '
                   f'{self.total_skips} in this run, max_skips='
                   f'{self.max_skips})')
        runner.logger.warning(message)
        runner.message_hub.update_scalar('train/skipped_steps',
                                         self.total_skips)
        if self.consecutive_skips > self.max_skips:
            last = read_last_checkpoint(runner.work_dir) or 'none'
            raise NonFiniteTrainingError(
                f'{message}. Stopping: the weights are those of the last '
                f'finite step; the last checkpoint is {last}. Lower the '
                'learning rate or check the data, then resume.')
