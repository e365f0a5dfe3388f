"""2-D sin-cos position embeddings: absolute (MAE / SiameseIM layout) and
relative to another view's geometry (SiameseIM); DINO's interpolation of a
learned embedding to another patch grid (MULAN's local crops).

Layout of a ``D``-dim embedding of a patch at (row, column) = (h, w):
``[sin(h w_k), cos(h w_k), sin(w w_k), cos(w w_k)]`` with
``w_k = T ** (-k / (D / 4))``, ``k = 0 .. D/4 - 1``, ``T = 10000``; token
``n = G * row + column``.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


def sincos_1d(positions: Tensor, dims: int,
              temperature: float = 10000.) -> Tensor:
    """Sin-cos embedding of scalar positions.

    Args:
        positions (Tensor): ``(...)`` positions (any float values).
        dims (int): Output dims (even): ``dims / 2`` sines then cosines.

    Returns:
        Tensor: ``(..., dims)`` float32.
    """
    half = dims // 2
    omega = temperature**(-torch.arange(
        half, dtype=torch.float64, device=positions.device) / half)
    angles = positions.double()[..., None] * omega
    return torch.cat([angles.sin(), angles.cos()], dim=-1).float()


def sincos_2d(grid_size: int, embed_dims: int,
              cls_token: bool = True) -> Tensor:
    """Fixed absolute embedding of a ``grid_size x grid_size`` patch grid.

    Returns:
        Tensor: ``(1, [1 +] G*G, D)``; the cls row (first) is zeros.
    """
    rows, cols = torch.meshgrid(
        torch.arange(grid_size), torch.arange(grid_size), indexing='ij')
    embed = torch.cat([
        sincos_1d(rows.flatten(), embed_dims // 2),
        sincos_1d(cols.flatten(), embed_dims // 2)
    ], dim=-1)
    if cls_token:
        embed = torch.cat([embed.new_zeros(1, embed_dims), embed])
    return embed[None]


def relative_patch_centres(relative_geometry: Tensor,
                           grid_size: int) -> tuple:
    """Centres of view-2 patches in view-1 patch-index units.

    Args:
        relative_geometry (Tensor): ``(B, 6)``: ``delta_i, delta_j, delta_h,
            delta_w, relative_flip, flip_delta_j`` (see
            ``mmsiam.datasets.transforms.relative_geometry``).
        grid_size (int): Patches per side, G.

    Returns:
        tuple[Tensor, Tensor]: ``gh, gw`` of shape ``(B, G*G)``. View-1
        patch centres are at integers ``0 .. G-1``; values may be
        fractional, negative or beyond ``G - 1``.
    """
    g = relative_geometry.double()
    delta_i, delta_j, delta_h, delta_w, flip, flip_delta_j = g.unbind(-1)
    rows, cols = torch.meshgrid(
        torch.arange(grid_size, dtype=torch.float64, device=g.device),
        torch.arange(grid_size, dtype=torch.float64, device=g.device),
        indexing='ij')
    rows, cols = rows.flatten() + 0.5, cols.flatten() + 0.5
    gh = delta_h[:, None] * rows + grid_size * delta_i[:, None] - 0.5
    gw_same = delta_w[:, None] * cols + grid_size * delta_j[:, None] - 0.5
    gw_flip = (-delta_w[:, None] * cols + grid_size * flip_delta_j[:, None] -
               0.5)
    gw = torch.where(flip[:, None] > 0.5, gw_flip, gw_same)
    return gh, gw


def sincos_2d_relative(relative_geometry: Tensor, grid_size: int,
                       embed_dims: int) -> Tensor:
    """Embedding of view-2 patches placed in view-1 coordinates.

    Returns:
        Tensor: ``(B, G*G, 2*D)`` float32:
        ``[sincos(gh), sincos(gw), sincos(10 ln delta_h),
        sincos(10 ln delta_w)]``, each part ``D/2`` dims; the first ``D``
        dims share the layout of :func:`sincos_2d`, so identity geometry
        gives the absolute embedding.
    """
    gh, gw = relative_patch_centres(relative_geometry, grid_size)
    log_scale = 10 * relative_geometry.double()[:, 2:4].log()
    scale_h = log_scale[:, :1].expand_as(gh)
    scale_w = log_scale[:, 1:].expand_as(gh)
    part_dims = embed_dims // 2
    return torch.cat([
        sincos_1d(gh, part_dims),
        sincos_1d(gw, part_dims),
        sincos_1d(scale_h, part_dims),
        sincos_1d(scale_w, part_dims)
    ], dim=-1)


def interpolate_pos_embed_dino(pos_embed: torch.Tensor, src_grid: int,
                               dst_hw) -> torch.Tensor:
    """DINO's position-embedding interpolation for another patch grid.

    The patch part of ``pos_embed`` ``(1, 1 + G*G, D)`` is resized
    bicubically with ``scale_factor = (h + 0.1) / G, (w + 0.1) / G`` (not
    with an explicit output size, as mmpretrain's ``resize_pos_embed``
    does; the sampling positions differ), giving an ``h x w`` grid.

    Returns:
        Tensor: ``(1, 1 + h*w, D)``, the cls row unchanged.
    """
    h, w = dst_hw
    if (h, w) == (src_grid, src_grid):
        return pos_embed
    cls_pos, patch_pos = pos_embed[:, :1], pos_embed[:, 1:]
    dim = pos_embed.shape[-1]
    grid = patch_pos.reshape(1, src_grid, src_grid, dim).permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid, scale_factor=((h + 0.1) / src_grid, (w + 0.1) / src_grid),
        mode='bicubic')
    if grid.shape[-2:] != (h, w):
        raise ValueError(f'position embedding of a {src_grid}x{src_grid} '
                         f'grid interpolated to {tuple(grid.shape[-2:])}, '
                         f'expected {(h, w)}')
    return torch.cat([cls_pos, grid.permute(0, 2, 3, 1).reshape(1, -1, dim)],
                     dim=1)
