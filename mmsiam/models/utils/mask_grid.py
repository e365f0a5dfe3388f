from torch import Tensor


def check_mask_grid(mask: Tensor, patch_resolution, owner: str) -> None:
    """Raise a ``ValueError`` naming the settings when a pipeline's mask
    ``(B, Gh, Gw)`` is not on the encoder's patch grid ``patch_resolution``
    (``img_size / patch_size``)."""
    rows, cols = patch_resolution
    if mask.dim() == 3 and tuple(mask.shape[1:]) == (rows, cols):
        return
    got = 'x'.join(str(s) for s in mask.shape[1:]) or 'a scalar'
    raise ValueError(
        f'{owner}: the pipeline packed masks of {got} patches, but the '
        f"encoder's patch grid is {rows}x{cols} (img_size / patch_size). "
        f'Set the mask generator of the pipeline to {rows}x{cols}: '
        f'BlockwiseMaskGenerator input_size={rows}, or '
        'SimMIMCellMaskGenerator input_size=<image size> with '
        'model_patch_size=<patch size>.')
