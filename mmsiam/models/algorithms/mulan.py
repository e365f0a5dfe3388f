from typing import Dict, List, Optional, Sequence

import torch
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmsiam.registry import MODELS

from ..heads.multi_task_predictor_head import TASKS, multi_task_pairs
from .momentum_target_self_supervisor import MomentumTargetSelfSupervisor


@MODELS.register_module()
class MULAN(MomentumTargetSelfSupervisor):
    """Multi-task asymmetric Siamese SSL with one predictor per view type.

    Every view (2 global, N local, M cutout) goes through the online
    encoder and projector (``backbone``, ``neck``) and the predictor of its
    type (``head.predictors[type]``), and is aligned with the target
    projections of the global views other than itself
    (:func:`multi_task_pairs`); the head sums the per-task mean losses with
    task weights. The target (``target.module.0`` / ``.1``) is updated
    before its forward: an EMA of the parameters (BYOL, MoCo v3), or a copy
    of parameters and buffers (SimSiam: ``base_momentum=end_momentum=1``,
    ``copy_buffers=True``). It runs in train mode, one forward per global
    view, without stochastic depth.

    Inputs: the views in the order global x G, local x L, cutout x C (each
    ``(B, 3, H_v, W_v)``); a data sample's ``view_type`` meta field, when
    packed, must list the same types.

    Args:
        backbone (dict): Encoder with one pooled output, e.g. ResNet
            (``out_indices=(3,)``) or a ViT with ``out_type='cls_token'``.
        neck (dict): Projector, ``((B, C, ...),) -> ((B, D),)``.
        head (dict): ``MultiTaskPredictorHead``.
        num_views (Sequence[int]): Views per task in the order global,
            local, cutout (the official ``--num-views-per-task``). Defaults
            to ``(2, 2, 1)``.
        base_momentum (float): Initial online weight of the target EMA
            (0.004: target momentum 0.996 -> 1).
        end_momentum (float): Final online weight. Defaults to 0.
        copy_buffers (bool): The target also copies online buffers.
        batch_views (bool): Encode views of one type and size in one
            backbone forward. Exact only for encoders without BatchNorm
            (ViT); the projector always sees one view at a time (its
            BatchNorm statistics are per view). Defaults to False.
    """

    def __init__(self,
                 backbone: dict,
                 neck: dict,
                 head: dict,
                 num_views: Sequence[int] = (2, 2, 1),
                 base_momentum: float = 0.004,
                 end_momentum: float = 0.,
                 copy_buffers: bool = False,
                 batch_views: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            base_momentum=base_momentum,
            end_momentum=end_momentum,
            copy_buffers=copy_buffers,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if len(num_views) != len(TASKS):
            raise ValueError(f'num_views lists views per task {TASKS}; got '
                             f'{num_views}')
        self.num_views = dict(zip(TASKS, num_views))
        multi_task_pairs(self.num_views)  # validates the counts
        missing = [t for t, n in self.num_views.items()
                   if n and t not in self.head.tasks]
        if missing:
            raise ValueError(f'MULAN: views of {missing} but the head has '
                             f'predictors for {list(self.head.tasks)} only')
        self.view_types = [task for task in TASKS
                           for _ in range(self.num_views.get(task, 0))]
        self.batch_views = batch_views
        # Stochastic depth is for the online network only.
        for module in self.target.modules():
            if hasattr(module, 'drop_prob'):
                module.drop_prob = 0.

    def extract_feat(self, inputs: Tensor, **kwargs):
        """Online encoder features of full images."""
        return self.backbone(inputs)

    def _check_view_types(self, data_samples: List[DataSample]) -> None:
        packed = data_samples[0].metainfo.get('view_type') \
            if data_samples else None
        if packed is not None and list(packed) != self.view_types:
            raise ValueError(f'MULAN expects views {self.view_types} (from '
                             f'num_views={self.num_views}); the pipeline '
                             f'packed {list(packed)}')

    def _encode(self, encoder: nn.Module, views: List[Tensor]) -> List[Tensor]:
        """Backbone features of every view, batching views of one type and
        size when ``batch_views``."""
        if not self.batch_views:
            return [encoder(view)[0] for view in views]
        features, start = [], 0
        while start < len(views):
            end = start + 1
            while (end < len(views)
                   and self.view_types[end] == self.view_types[start]
                   and views[end].shape == views[start].shape):
                end += 1
            batch = encoder(torch.cat(views[start:end]))[0]
            features += list(batch.chunk(end - start))
            start = end
        return features

    def _project(self, encoder: nn.Module, projector: nn.Module,
                 views: List[Tensor]) -> List[Tensor]:
        """``(B, D)`` projections, one projector forward per view."""
        return [projector((feature, ))[0]
                for feature in self._encode(encoder, views)]

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        views = self.split_views(
            inputs, [f'{task}_{i}' for i, task in enumerate(self.view_types)])
        self._check_view_types(data_samples)
        num_globals = self.num_views['global']

        self.momentum_update()
        with torch.no_grad():
            target_encoder, target_projector = self.target.module
            targets = self._project(target_encoder, target_projector,
                                    views[:num_globals])

        predictions: Dict[str, List[Tensor]] = {}
        for task, projection in zip(
                self.view_types, self._project(self.backbone, self.neck,
                                               views)):
            predictions.setdefault(task, []).append(
                self.head.predict(task, projection))
        return self.head.loss(predictions, targets)
