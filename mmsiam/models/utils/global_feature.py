from typing import Sequence, Union

from torch import Tensor, nn

# Which pooled output a backbone's ``out_type`` already is.
POOLED_OUT_TYPES = {'cls': 'cls_token', 'avg': 'avg_featmap'}


def global_feature(output: Union[Tensor, Sequence[Tensor]], feature: str,
                   encoder: nn.Module) -> Tensor:
    """One vector per image from a backbone's output.

    Args:
        output: What ``encoder(images)`` returned; of a tuple, the last
            stage is used: feature maps ``(B, C, H, W)``, tokens
            ``(B, E + N, D)`` with ``E = encoder.num_extra_tokens`` leading
            extra tokens (cls), or vectors ``(B, D)`` already pooled as the
            encoder's ``out_type`` says.
        feature (str): 'cls' (the first token) or 'avg' (mean of the patch
            tokens / of the feature map).
        encoder (nn.Module): The module that produced ``output``.

    Returns:
        Tensor: ``(B, D)``.
    """
    if feature not in POOLED_OUT_TYPES:
        raise ValueError(f"feature must be 'cls' or 'avg', got '{feature}'")
    x = output[-1] if isinstance(output, (tuple, list)) else output
    name = type(encoder).__name__
    if x.dim() == 4:
        if feature == 'cls':
            raise ValueError(f"{name} outputs feature maps "
                             f'{tuple(x.shape)}: use feature=\'avg\'')
        return x.mean(dim=(2, 3))
    if x.dim() == 3:
        extra = getattr(encoder, 'num_extra_tokens', 0)
        if feature == 'cls':
            if extra < 1:
                raise ValueError(f'{name} has no cls token: use '
                                 "feature='avg'")
            return x[:, 0]
        return x[:, extra:].mean(dim=1)
    out_type = getattr(encoder, 'out_type', None)
    if x.dim() == 2 and out_type == POOLED_OUT_TYPES[feature]:
        return x
    raise ValueError(f"{name} outputs {tuple(x.shape)} (out_type="
                     f"'{out_type}'), which is not a '{feature}' feature")
