import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmsiam.registry import MODELS


@MODELS.register_module()
class PatchContrastLoss(nn.Module):
    """Intra-image, inter-patch InfoNCE at masked positions (ConMIM).

    With ``q = normalize(pred)`` and ``k = normalize(target)`` (float32),
    the logits of image ``b`` are ``q_b k_b^T / temperature``
    ``(N, N)``; each masked position ``j`` is a query whose positive is the
    target patch ``j`` of the same image and whose negatives are the other
    ``N - 1`` target patches of that image (no cross-image negatives, no
    queue). The loss is the cross-entropy averaged over the masked tokens of
    the local batch.

    Args:
        temperature (float): Defaults to 0.1.

    Shapes:
        pred ``(B, N, C)`` (student), target ``(B, N, C)`` (teacher),
        mask bool ``(B, N)`` (True = masked, at least one per batch).
    """

    def __init__(self, temperature: float = 0.1):
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = temperature

    def forward(self, pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        if pred.shape != target.shape or mask.shape != pred.shape[:2]:
            raise ValueError(
                f'PatchContrastLoss needs pred and target (B, N, C) and mask '
                f'(B, N); got {tuple(pred.shape)}, {tuple(target.shape)}, '
                f'{tuple(mask.shape)}')
        query = F.normalize(pred.float(), dim=-1)
        key = F.normalize(target.float(), dim=-1)
        logits = torch.bmm(query, key.transpose(1, 2)) / self.temperature
        mask = mask.bool()
        labels = torch.arange(pred.shape[1], device=pred.device).expand_as(
            mask)
        return F.cross_entropy(logits[mask], labels[mask])

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}'
