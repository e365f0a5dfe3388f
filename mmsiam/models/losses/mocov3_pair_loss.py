import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank
from torch import Tensor, nn

from mmsiam.registry import MODELS


@MODELS.register_module()
class MoCoV3PairLoss(nn.Module):
    """MoCo v3 InfoNCE of one (prediction, target) pair, targets gathered
    from every process.

    ``q = normalize(pred)`` ``(B, C)``, ``k = normalize(target)`` gathered
    without gradient into ``(world_size * B, C)``; the positive of query
    ``i`` on rank ``r`` is key ``r * B + i``; the loss is the cross-entropy
    of ``q k^T / temperature`` times ``2 * temperature``. With gradient
    accumulation the keys are those of the current micro-batch on every
    process, not of the effective batch (docs/distributed.md).

    Args:
        temperature (float): Defaults to 1.0 (MULAN's MoCo v3).
    """

    def __init__(self, temperature: float = 1.0):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        query = F.normalize(pred, dim=1)
        with torch.no_grad():
            keys = torch.cat(all_gather(F.normalize(target, dim=1)), dim=0)
        logits = query @ keys.T / self.temperature
        labels = torch.arange(pred.shape[0], device=pred.device) + \
            get_rank() * pred.shape[0]
        return F.cross_entropy(logits, labels) * 2 * self.temperature

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}'
