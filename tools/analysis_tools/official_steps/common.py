"""What the official training loops share: parameter groups, the
per-parameter EMA and one optimizer step."""
from typing import Callable, Iterable, List, Tuple

import torch
from torch import nn


def vit_arch(backbone_cfg, arch_zoo) -> dict:
    """``embed_dim``, ``depth``, ``num_heads``, ``mlp_ratio`` of an mmsiam
    ViT backbone config (an mmpretrain arch name or dict)."""
    arch = backbone_cfg.get('arch', 'b')
    arch = arch_zoo[arch] if isinstance(arch, str) else arch
    return dict(embed_dim=arch['embed_dims'], depth=arch['num_layers'],
                num_heads=arch['num_heads'],
                mlp_ratio=arch['feedforward_channels'] / arch['embed_dims'],
                img_size=backbone_cfg.get('img_size', 224),
                patch_size=backbone_cfg.get('patch_size', 16))


def explicit_attention(blocks: Iterable[nn.Module]) -> None:
    """timm attention as timm 0.3.2 / BEiT v1 compute it (no fused SDPA)."""
    for block in blocks:
        block.attn.fused_attn = False


def weight_decay_groups(model: nn.Module, weight_decay: float,
                        skip: Tuple[str, ...] = ()) -> List[dict]:
    """No decay for 1-D parameters, biases and the names in ``skip`` (the
    MAE / BEiT ``param_groups`` rule); frozen parameters left out."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name.endswith('.bias') or name in skip:
            no_decay.append(param)
        else:
            decay.append(param)
    return [dict(params=no_decay, weight_decay=0.),
            dict(params=decay, weight_decay=weight_decay)]


@torch.no_grad()
def ema_update(pairs: List[Tuple[nn.Parameter, nn.Parameter]],
               target_keep: float) -> None:
    """``t <- m t + (1 - m) o``, one parameter at a time (MoCo / BEiT)."""
    for target, online in pairs:
        target.data.mul_(target_keep).add_((1. - target_keep) * online.data)


class OfficialStep:
    """One training step as the official loops run it: the loss under
    autocast (bf16 on CPU, fp16 on CUDA; no GradScaler on CPU), backward,
    gradient clipping, torch's default ``AdamW`` (a loop over parameters on
    CPU) and the EMA where the method puts it.

    Args:
        model (nn.Module): A reference model with ``loss(batch)``,
            ``ema_pairs()`` and ``ema_before_forward`` (bool).
        lr, betas, eps, weight_decay: AdamW settings.
        clip_grad (float): Max gradient norm (0: none).
        amp (bool): Autocast.
        skip_decay (tuple[str]): Parameters without weight decay.
    """

    def __init__(self, model: nn.Module, lr: float, betas, weight_decay: float,
                 clip_grad: float, amp: bool, eps: float = 1e-8,
                 skip_decay: Tuple[str, ...] = ()):
        self.model = model
        self.optimizer = torch.optim.AdamW(
            weight_decay_groups(model, weight_decay, skip_decay),
            lr=lr, betas=betas, eps=eps)
        self.clip_grad = clip_grad
        self.amp = amp
        self.pairs = model.ema_pairs()
        device = next(model.parameters()).device
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler(
            enabled=amp and device.type == 'cuda')

    def __call__(self, batch, momentum: float) -> torch.Tensor:
        """One step; ``momentum`` is the target's keep weight ``m``."""
        if self.model.ema_before_forward:
            ema_update(self.pairs, momentum)
        dtype = torch.bfloat16 if self.device_type == 'cpu' else torch.float16
        with torch.autocast(self.device_type, dtype=dtype,
                            enabled=self.amp):
            loss = self.model.loss(batch)
        self.optimizer.zero_grad()
        self.scaler.scale(loss).backward()
        if self.clip_grad:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if not self.model.ema_before_forward:
            ema_update(self.pairs, momentum)
        return loss.detach()


def pair_parameters(target: nn.Module, online: nn.Module,
                    rename: Callable[[str], str] = lambda name: name):
    """``(target, online)`` parameter pairs matched by name."""
    online_params = dict(online.named_parameters())
    return [(param, online_params[rename(name)])
            for name, param in target.named_parameters()]
