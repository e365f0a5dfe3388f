from torch import nn


def xavier_linear_unit_norm(module: nn.Module) -> None:
    """MAE-style init, for ``model.apply``: xavier-uniform Linear weights,
    zero Linear biases, LayerNorm weight 1 and bias 0."""
    if isinstance(module, nn.Linear):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm) and module.elementwise_affine:
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def trunc_normal_one_std_(tensor, std: float = 0.02):
    """BEiT's truncated normal: ``N(0, std)`` cut at ``+-std`` (one standard
    deviation, not mmengine's default of +-2 absolute)."""
    return nn.init.trunc_normal_(tensor, mean=0., std=std, a=-std, b=std)


def beit_init(module: nn.Module, std: float = 0.02) -> None:
    """BEiT v1 init, for ``model.apply``: Linear and Conv2d weights
    :func:`trunc_normal_one_std_`, their biases 0; LayerNorm (1, 0)."""
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        trunc_normal_one_std_(module.weight, std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm) and module.elementwise_affine:
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def is_pretrained_init(init_cfg) -> bool:
    """True when ``init_cfg`` loads weights (own init must not run)."""
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


class FreshInitMixin:
    """A module's own initialisation, skipped when it loads a checkpoint.

    ``init_weights()`` runs the parent's (mmengine's ``init_cfg``), then
    :meth:`init_fresh_weights` unless ``init_cfg`` is ``Pretrained``, whose
    weights it must not overwrite. List it first among the bases.
    """

    def init_weights(self) -> None:
        super().init_weights()
        if not is_pretrained_init(self.init_cfg):
            self.init_fresh_weights()

    def init_fresh_weights(self) -> None:
        """The initialisation without a checkpoint."""
        raise NotImplementedError
