import torch
import torch.distributed as dist
from mmengine.dist import get_world_size
from torch import Tensor, nn

from mmsiam.registry import MODELS


@MODELS.register_module()
class UniGradLoss(nn.Module):
    """Dense UniGrad loss (SiameseIM), in its memory-cheap form.

    With predictions ``P`` and (normalised) targets ``T`` as ``(N, D)``
    token matrices, ``N = B * L`` on this process::

        pos  = mean_n ||P_n - T_n||^2
        C    = T^T T / N, averaged over processes, no gradient
        neg  = mean_n P_n^T C P_n
        loss = (pos + neg_weight * neg) / D

    ``neg`` equals ``mean(diag(P C P^T))`` without the ``N x N`` matrix.
    Computed in float32 with autocast off.

    Args:
        neg_weight (float): Weight of the correlation term. Defaults to 0.02.
    """

    def __init__(self, neg_weight: float = 0.02):
        super().__init__()
        self.neg_weight = neg_weight

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """
        Args:
            pred (Tensor): ``(B, L, D)`` predictions.
            target (Tensor): ``(B, L, D)`` targets (no gradient needed).

        Returns:
            Tensor: scalar loss.
        """
        if pred.shape != target.shape:
            raise ValueError(f'pred {tuple(pred.shape)} and target '
                             f'{tuple(target.shape)} differ in shape')
        dims = pred.shape[-1]
        with torch.autocast(pred.device.type, enabled=False):
            pred = pred.float().reshape(-1, dims)
            target = target.float().reshape(-1, dims)
            pos = (pred - target).pow(2).sum(-1).mean()
            with torch.no_grad():
                second_moment = target.T @ target / target.shape[0]
                world_size = get_world_size()
                if world_size > 1:
                    dist.all_reduce(second_moment)
                    second_moment /= world_size
            neg = ((pred @ second_moment) * pred).sum(-1).mean()
            return (pos + self.neg_weight * neg) / dims
