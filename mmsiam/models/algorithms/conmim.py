from typing import Dict, List

import torch
from mmpretrain.structures import DataSample
from torch import Tensor

from mmsiam.registry import MODELS

from ..utils import stack_field
from .momentum_target_self_supervisor import MomentumTargetSelfSupervisor


@MODELS.register_module()
class ConMIM(MomentumTargetSelfSupervisor):
    """Masked image modeling with denoising contrast (ConMIM).

    The student (``backbone`` + ``neck`` projector) encodes the weakly
    augmented view with the masked patch embeddings replaced by a mask
    token; the teacher ``target`` (``target.module.0`` encoder,
    ``target.module.1`` projector), an EMA copy kept in train mode, encodes
    the strongly augmented, unmasked view of the same crop. The head's
    loss contrasts every masked student token with the teacher tokens of
    its own image.

    The teacher is updated after every optimizer step
    (``target_update='after_step'``): ``t <- (1 - m_k) t + m_k s`` over
    parameters only, with ``m_k = base_momentum * (1 + cos(pi k / K)) / 2``
    for the finished iteration ``k`` of ``K``, i.e. teacher momentum
    0.996 -> 1 for ``base_momentum=0.004``.

    Inputs: ``[student_view, teacher_view]``, each ``(B, 3, H, W)``; every
    data sample carries ``mask`` (bool ``(G, G)``, True = masked).

    Args:
        backbone (dict): ``ConMIMViT``.
        neck (dict): ``TokenProjector``.
        head (dict): e.g. ``MIMHead`` with ``PatchContrastLoss``.
        base_momentum (float): Initial online weight of the EMA.
            Defaults to 0.004.
        target_update (str): Defaults to ``'after_step'`` (the official
            order).
        **kwargs: The other options of
            :class:`MomentumTargetSelfSupervisor`.
    """

    def __init__(self,
                 base_momentum: float = 0.004,
                 target_update: str = 'after_step',
                 **kwargs):
        super().__init__(
            base_momentum=base_momentum, target_update=target_update,
            **kwargs)

    def extract_feat(self, inputs: Tensor, **kwargs):
        """Student encoder tokens ``((B, 1 + G*G, D),)`` of full images."""
        return self.backbone(inputs, None)

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        student_view, teacher_view = self.split_views(
            inputs, ('student_view', 'teacher_view'))
        mask = stack_field(data_samples, 'mask', student_view.device).bool()
        self.update_target()

        student = self.neck(self.backbone(student_view, mask)[0])
        with torch.no_grad():
            teacher_encoder, teacher_projector = self.target.module
            teacher = teacher_projector(teacher_encoder(teacher_view)[0])
        return dict(loss=self.head.loss(student, teacher, mask.flatten(1)))
