import torch
from torch import Tensor, nn

from mmsiam.registry import MODELS

from ..layers import TokenTransformer
from ..utils import sincos_2d, sincos_2d_relative


@MODELS.register_module()
class SiameseIMHead(TokenTransformer):
    """SiameseIM predictor and loss.

    The predictor sees the projected online tokens (cls and visible view-1
    patches, each visible patch plus the fixed ``decoder_pos_embed`` of its
    position) followed by one query per view-2 patch: ``mask_token`` plus
    ``pos_mlp`` of the relative sin-cos embedding of that patch in view-1
    coordinates. After the blocks, ``pred`` maps the query tokens to the
    predictions. Targets are normalised by a LayerNorm without affine
    (eps 1e-5) before the loss.

    Args:
        grid_size (int): Patches per side. Defaults to 14.
        depth (int): Predictor blocks. Defaults to 4.
        loss (dict): The loss module. Defaults to ``UniGradLoss``.
        **kwargs: The other settings of :class:`TokenTransformer`:
            ``embed_dims`` (768), ``num_heads`` (16), ``mlp_ratio`` (4),
            ``norm_cfg``.
    """

    def __init__(self,
                 grid_size: int = 14,
                 depth: int = 4,
                 loss: dict = dict(type='UniGradLoss', neg_weight=0.02),
                 **kwargs):
        super().__init__(depth=depth, **kwargs)
        embed_dims = self.embed_dims
        self.grid_size = grid_size
        self.mask_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.decoder_pos_embed = nn.Parameter(
            sincos_2d(grid_size, embed_dims, cls_token=True),
            requires_grad=False)
        self.pos_mlp = nn.Linear(2 * embed_dims, embed_dims)
        self.build_blocks()
        self.pred = nn.Linear(embed_dims, embed_dims)
        self.target_norm = nn.LayerNorm(
            embed_dims, eps=1e-5, elementwise_affine=False)
        self.loss_module = MODELS.build(loss)

    def init_fresh_weights(self) -> None:
        self.decoder_pos_embed.data.copy_(
            sincos_2d(self.grid_size, self.embed_dims, cls_token=True))
        nn.init.normal_(self.mask_token, std=0.02)
        super().init_fresh_weights()

    def predictions(self, online: Tensor, mask: Tensor,
                    relative_geometry: Tensor) -> Tensor:
        """The predictor: view-2 tokens from the online view-1 tokens.

        Args:
            online (Tensor): ``(B, 1 + N_vis, D)`` projected online tokens,
                cls first, visible patches in row-major order.
            mask (Tensor): Bool ``(B, G, G)`` view-1 mask, True = masked.
            relative_geometry (Tensor): ``(B, 6)`` view-2 geometry.

        Returns:
            Tensor: ``(B, G*G, D)`` predictions of the view-2 patches.
        """
        batch = online.shape[0]
        visible = ~mask.flatten(1)
        pos = self.decoder_pos_embed[:, 1:].expand(batch, -1, -1)
        visible_pos = pos[visible].reshape(batch, -1, self.embed_dims)
        relative = sincos_2d_relative(relative_geometry, self.grid_size,
                                      self.embed_dims).detach()
        queries = self.mask_token + self.pos_mlp(relative)
        tokens = torch.cat(
            [online[:, :1], online[:, 1:] + visible_pos, queries], dim=1)
        tokens = self.run_blocks(tokens)
        return self.pred(tokens[:, -self.grid_size**2:])

    def loss(self, online: Tensor, target: Tensor, mask: Tensor,
             relative_geometry: Tensor) -> Tensor:
        """UniGrad loss of the predictions against ``target_norm(target)``.

        Args:
            online (Tensor): ``(B, 1 + N_vis, D)``, see :meth:`predictions`.
            target (Tensor): ``(B, G*G, D)`` projected target patches of
                view 2.
            mask (Tensor): Bool ``(B, G, G)`` view-1 mask, True = masked.
            relative_geometry (Tensor): ``(B, 6)`` view-2 geometry.

        Returns:
            Tensor: The scalar loss.
        """
        pred = self.predictions(online, mask, relative_geometry)
        with torch.autocast(target.device.type, enabled=False):
            target = self.target_norm(target.float())
        return self.loss_module(pred, target)
