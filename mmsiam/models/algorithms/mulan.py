from typing import Dict, List, Sequence, Tuple

import torch
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmsiam.registry import MODELS

from .momentum_target_self_supervisor import (MomentumTargetSelfSupervisor,
                                              describe_views)


@MODELS.register_module()
class MULAN(MomentumTargetSelfSupervisor):
    """Multi-task asymmetric Siamese SSL with one predictor per view type.

    Every view (2 global, N local, M cutout) goes through the online
    encoder and projector (``backbone``, ``neck``); the head predicts it
    with the predictor of its type and aligns it with the target
    projections of the global views other than itself, summing the
    per-task mean losses with task weights. The target (``target.module.0``
    / ``.1``) is updated before its forward: an EMA of the parameters
    (BYOL, MoCo v3), or a copy of parameters and buffers (SimSiam:
    ``base_momentum=end_momentum=1``, ``copy_buffers=True``). It runs in
    train mode, one forward per global view, without stochastic depth.

    The views and their types are the pipeline's: ``MultiViewWithKeys``
    with ``view_types`` and ``PackInputs(meta_keys=['view_type'])`` pack
    ``view_type`` (e.g. ``['global', 'global', 'local', 'local',
    'cutout']``), one name per input ``(B, 3, H_v, W_v)``; the number of
    local views is a pipeline setting only.

    Args:
        backbone (dict): Encoder with one pooled output, e.g. ResNet
            (``out_indices=(3,)``) or a ViT with ``out_type='cls_token'``.
        neck (dict): Projector, ``((B, C, ...),) -> ((B, D),)``.
        head (dict): ``MultiTaskPredictorHead``.
        base_momentum (float): Initial online weight of the target EMA
            (0.004: target momentum 0.996 -> 1).
        batch_views (bool): Encode consecutive views of one type and size
            in one backbone forward. Exact only for encoders without
            BatchNorm (ViT); the projector always sees one view at a time
            (its BatchNorm statistics are per view). Defaults to False.
        channels_last (bool): Keep the 4-d weights of both encoders and
            every view in ``torch.channels_last`` (NHWC) memory format,
            the layout that cuDNN and oneDNN convolutions run without
            converting; for ResNet encoders. The numbers do not change.
            Defaults to False.
        **kwargs: The other options of
            :class:`MomentumTargetSelfSupervisor` (``end_momentum``,
            ``copy_buffers`` for SimSiam's copy target).
    """

    def __init__(self,
                 base_momentum: float = 0.004,
                 batch_views: bool = False,
                 channels_last: bool = False,
                 **kwargs):
        super().__init__(base_momentum=base_momentum, **kwargs)
        self.batch_views = batch_views
        self.memory_format = torch.channels_last if channels_last \
            else torch.contiguous_format
        if channels_last:
            self.backbone.to(memory_format=torch.channels_last)
            self.target.to(memory_format=torch.channels_last)
        # Stochastic depth is for the online network only.
        for module in self.target.modules():
            if hasattr(module, 'drop_prob'):
                module.drop_prob = 0.

    def extract_feat(self, inputs: Tensor, **kwargs):
        """Online encoder features of full images."""
        return self.backbone(inputs)

    @staticmethod
    def packed_view_types(inputs: Sequence[Tensor],
                          data_samples: List[DataSample]) -> List[str]:
        """The ``view_type`` the pipeline packed, one per input view."""
        packed = data_samples[0].metainfo.get('view_type') \
            if data_samples else None
        if packed is None:
            raise ValueError(
                "MULAN reads the type of every view from the data samples' "
                "'view_type': give MultiViewWithKeys view_types=[...] and "
                "pack it with PackInputs(meta_keys=['view_type'])")
        if not isinstance(inputs, (list, tuple)) or \
                len(inputs) != len(packed):
            raise ValueError(f'MULAN: the pipeline packed view_type '
                             f'{list(packed)} for {describe_views(inputs)}')
        return list(packed)

    def _encode(self, encoder: nn.Module, views: Sequence[Tensor],
                view_types: Sequence[str]) -> List[Tuple[Tensor]]:
        """The encoder output (a 1-tuple) of every view, one forward per
        run of consecutive views of one type and size when
        ``batch_views``."""
        views = [view.contiguous(memory_format=self.memory_format)
                 for view in views]
        if not self.batch_views:
            return [encoder(view) for view in views]
        outputs, start = [], 0
        while start < len(views):
            end = start + 1
            while (end < len(views) and view_types[end] == view_types[start]
                   and views[end].shape == views[start].shape):
                end += 1
            batch = encoder(torch.cat(views[start:end]))[0]
            outputs += [(chunk, ) for chunk in batch.chunk(end - start)]
            start = end
        return outputs

    def _project(self, encoder: nn.Module, projector: nn.Module,
                 views: Sequence[Tensor],
                 view_types: Sequence[str]) -> List[Tensor]:
        """``(B, D)`` projections, one projector forward per view."""
        return [projector(output)[0]
                for output in self._encode(encoder, views, view_types)]

    def loss(self, inputs: List[Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, Tensor]:
        view_types = self.packed_view_types(inputs, data_samples)
        global_views = [view for view, kind in zip(inputs, view_types)
                        if kind == 'global']

        self.update_target()
        with torch.no_grad():
            target_encoder, target_projector = self.target.module
            targets = self._project(target_encoder, target_projector,
                                    global_views,
                                    ['global'] * len(global_views))

        projections = self._project(self.backbone, self.neck, inputs,
                                    view_types)
        return self.head.loss(projections, targets, view_types)
