from typing import List, Optional, Sequence

from mmengine.logging import MessageHub
from mmpretrain.models.selfsup import BaseSelfSupervisor
from torch import Tensor, nn

from ..utils import MomentumTarget, call_after_optimizer_steps

TARGET_UPDATES = ('before_forward', 'after_step')


class MomentumTargetSelfSupervisor(BaseSelfSupervisor):
    """A self-supervisor with an EMA target of its encoder and projector.

    ``target`` (:class:`MomentumTarget`) holds copies of ``backbone`` and
    ``neck`` as ``target.module.0`` / ``target.module.1`` (the checkpoint
    prefix of the target encoder in every mmsiam method), equal to them
    after ``init_weights``. Subclasses call :meth:`update_target` in
    ``loss()`` before the target forward; ``target_update`` says when the
    EMA step runs:

    - ``'before_forward'`` (BYOL, SiameseIM): there, in the first training
      ``loss()`` call of each optimizer step: with gradient accumulation
      (``optim_wrapper.accumulative_counts``) the later micro-batches of a
      step find gradients already accumulated and see the same target
      (this relies on the optimizer wrapper clearing gradients to None, as
      mmengine's does);
    - ``'after_step'`` (ConMIM): right after every step of the optimizer
      that updates this model (torch's optimizer post-step hook, registered
      by the first ``update_target()``), so checkpoints and validations of
      an iteration see the updated target; once per real step with
      accumulation. An AMP step skipped for non-finite gradients leaves
      the student as it is and still moves the teacher (as the official
      ConMIM code does; ``AnyDeviceAmpOptimWrapper`` reports the skip).

    Every training ``loss()`` advances ``target.steps`` (the iteration
    count); an EMA step uses the momentum of the iteration it runs in, so
    the schedule spans the run with or without accumulation. Every EMA step
    logs its online weight as ``momentum``. No hook is needed in the
    config.

    Args:
        backbone, neck, head (dict): Encoder, projector, head with the loss.
        base_momentum (float): Initial online weight of the EMA, decaying
            to ``end_momentum`` on a cosine over all iterations.
        end_momentum (float): Defaults to 0.
        copy_buffers (bool): The target also copies the online buffers at
            every update. Defaults to False.
        target_update (str): ``'before_forward'`` or ``'after_step'``.
            Defaults to ``'before_forward'``.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float,
                 end_momentum: float = 0.,
                 copy_buffers: bool = False,
                 target_update: str = 'before_forward',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if target_update not in TARGET_UPDATES:
            raise ValueError(f'target_update must be one of {TARGET_UPDATES}'
                             f', got {target_update!r}')
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.target = MomentumTarget(self.online_modules,
                                     momentum=base_momentum,
                                     end_momentum=end_momentum,
                                     copy_buffers=copy_buffers)
        self.target_update = target_update

    @property
    def online_modules(self) -> List[nn.Module]:
        """The modules the target copies: ``[backbone, neck]``."""
        return [self.backbone, self.neck]

    def init_weights(self) -> None:
        super().init_weights()
        self.target.copy_from(self.online_modules)

    def momentum_update(self, step: Optional[int] = None) -> float:
        """One EMA step of the target at iteration ``step`` (default: the
        target's ``steps``); returns (and logs as ``momentum``) the online
        weight used."""
        momentum = self.target.update(self.online_modules, step)
        MessageHub.get_current_instance().update_scalar(
            'train/momentum', momentum)
        return momentum

    def update_target(self) -> None:
        """Count one training iteration and run the EMA step of
        ``target_update``; call it in ``loss()`` before the target forward.
        Nothing happens outside training mode."""
        if not self.training:
            return
        step = int(self.target.steps)
        self.target.steps += 1
        if self.target_update == 'before_forward':
            if not self._gradients_accumulated():
                self.momentum_update(step)
        else:
            # The iteration whose optimizer step just ran: the last counted.
            call_after_optimizer_steps(
                self, lambda model: model.momentum_update(
                    int(model.target.steps) - 1))

    def _gradients_accumulated(self) -> bool:
        """Whether an online parameter holds a gradient, i.e. this
        iteration continues an optimizer step (gradient accumulation)."""
        return any(param.grad is not None
                   for module in self.online_modules
                   for param in module.parameters())

    def split_views(self, inputs: List[Tensor],
                    names: Sequence[str]) -> List[Tensor]:
        """``inputs`` as the views named ``names``; a clear error if the
        pipeline packed another number."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(names):
            raise ValueError(f'{type(self).__name__} takes inputs=['
                             f'{", ".join(names)}]; got '
                             f'{describe_views(inputs)}')
        return list(inputs)


def describe_views(inputs) -> str:
    """``'N views'`` for a list of views, else the type of ``inputs``."""
    if isinstance(inputs, (list, tuple)):
        return f'{len(inputs)} views'
    return type(inputs).__name__
