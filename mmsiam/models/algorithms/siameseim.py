from typing import Dict, List, Tuple

import torch
from mmpretrain.structures import DataSample
from torch import Tensor

from mmsiam.registry import MODELS

from ..utils import stack_field
from .momentum_target_self_supervisor import MomentumTargetSelfSupervisor


@MODELS.register_module()
class SiameseIM(MomentumTargetSelfSupervisor):
    """Siamese Image Modeling.

    The online encoder sees the visible patches of view 1; the projector
    (neck) and the predictor (head) predict, for every patch of view 2, the
    projected target feature of that patch, placed by the relative geometry
    of the two crops. The target branch ``target`` is an EMA copy of encoder
    and projector (``target.module.0`` / ``.1``), updated every iteration
    *before* its forward, and sees the full view 2.

    Inputs: ``[view1, view2]`` each ``(B, 3, H, W)``; every data sample
    carries ``mask`` (bool ``(G, G)``, True = masked, for view 1) and
    ``relative_geometry`` (float ``(6,)``).

    Args:
        backbone, neck, head (dict): Encoder, projector, predictor + loss.
        base_momentum (float): Initial online weight of the EMA (0.005, i.e.
            target momentum 0.995 -> 1 on a cosine over all iterations).
        **kwargs: The other options of
            :class:`MomentumTargetSelfSupervisor`.
    """

    def __init__(self, base_momentum: float = 0.005, **kwargs):
        super().__init__(base_momentum=base_momentum, **kwargs)

    def extract_feat(self, inputs: Tensor, **kwargs) -> Tuple[Tensor]:
        """Online encoder tokens ``((B, 1 + G*G, D),)`` of full images."""
        return self.backbone(inputs)

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        view1, view2 = self.split_views(inputs, ('view1', 'view2'))
        mask = stack_field(data_samples, 'mask', view1.device).bool()
        geometry = stack_field(data_samples, 'relative_geometry',
                               view1.device).float()

        self.update_target()
        with torch.no_grad():
            target_encoder, target_projector = self.target.module
            target = target_projector(target_encoder(view2)[0])[:, 1:]

        online = self.neck(self.backbone(view1, mask)[0])
        return dict(loss=self.head.loss(online, target, mask, geometry))
