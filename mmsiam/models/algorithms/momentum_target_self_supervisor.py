from typing import List, Optional, Sequence

from mmpretrain.models.selfsup import BaseSelfSupervisor
from torch import Tensor

from ..utils import MomentumTarget


class MomentumTargetSelfSupervisor(BaseSelfSupervisor):
    """A self-supervisor with an EMA target of its encoder and projector.

    ``target`` (:class:`MomentumTarget`) holds copies of ``backbone`` and
    ``neck`` as ``target.module.0`` / ``target.module.1`` (the checkpoint
    prefix of the target encoder in every mmsiam method), equal to them
    after ``init_weights``. Subclasses choose where :meth:`momentum_update`
    runs (before the target forward, or after the optimizer step through
    ``MomentumTargetUpdateHook``).

    Args:
        backbone, neck, head (dict): Encoder, projector, head with the loss.
        base_momentum (float): Initial online weight of the EMA, decaying
            to ``end_momentum`` on a cosine over all iterations.
        end_momentum (float): Defaults to 0.
        copy_buffers (bool): The target also copies the online buffers at
            every update. Defaults to False.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 base_momentum: float,
                 end_momentum: float = 0.,
                 copy_buffers: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.target = MomentumTarget([self.backbone, self.neck],
                                     momentum=base_momentum,
                                     end_momentum=end_momentum,
                                     copy_buffers=copy_buffers)

    def init_weights(self) -> None:
        super().init_weights()
        self.target.copy_from([self.backbone, self.neck])

    def momentum_update(self) -> float:
        """One EMA step of the target; returns the online weight used."""
        return self.target.update([self.backbone, self.neck])

    def split_views(self, inputs: List[Tensor],
                    names: Sequence[str]) -> List[Tensor]:
        """``inputs`` as the views named ``names``; a clear error if the
        pipeline packed another number."""
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(names):
            got = (f'{len(inputs)} views' if isinstance(inputs, (list, tuple))
                   else type(inputs).__name__)
            raise ValueError(f'{type(self).__name__} takes inputs=['
                             f'{", ".join(names)}]; got {got}')
        return list(inputs)
