from torch import Tensor
from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler


class FusedOptimizerShardedGradScaler(ShardedGradScaler):
    """torch's FSDP ``ShardedGradScaler`` that works with fused optimizers.

    ``ShardedGradScaler.unscale_`` makes its found-inf flag of shape
    ``(1,)`` where ``GradScaler`` makes it 0-dim. A fused optimizer
    (``AdamW(fused=True)``, the ViT paper configs') takes the flag from the
    scaler and subtracts it in place from its 0-dim step counts, which
    fails at the first step on CPU and CUDA alike: ``output with shape []
    doesn't match the broadcast shape [1]`` (fp16 AMP under FSDP, e.g.
    ``conmim_vit-large-p16_32xb64-fsdp-amp-coslr-1600e_in1k.py``). This
    scaler gives the flag ``GradScaler``'s 0-dim shape; the scale, its
    updates and the skipped steps are unchanged.
    """

    def _unscale_grads_(self, optimizer, inv_scale: Tensor,
                        found_inf: Tensor, allow_fp16: bool):
        return super()._unscale_grads_(optimizer, inv_scale,
                                       found_inf.reshape(()), allow_fp16)
