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


def is_pretrained_init(init_cfg) -> bool:
    """True when ``init_cfg`` loads weights (own init must not run)."""
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'
