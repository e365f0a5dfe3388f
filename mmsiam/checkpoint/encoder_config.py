"""The encoder config that a checkpoint records: what its weights alone
cannot tell (a ViT's number of heads), for the tools that rebuild the
encoder elsewhere (exports, ``--demo-scale`` benchmarks)."""
from typing import Optional

from mmengine.config import Config


def encoder_config_of(checkpoint: dict) -> Optional[dict]:
    """The backbone config of the run that wrote ``checkpoint``.

    Args:
        checkpoint (dict): A loaded checkpoint: an mmsiam pretraining
            checkpoint (``meta['cfg']``, the runner's config text) or a
            ``backbone.*`` export of ``extract_backbone.py``
            (``meta['backbone']``).

    Returns:
        dict | None: e.g. ``{'type': 'SiameseIMViT', 'arch': {'embed_dims':
        64, 'num_layers': 4, 'num_heads': 2, ...}, 'img_size': 64,
        'patch_size': 8}``; None when the checkpoint records no config.
    """
    meta = checkpoint.get('meta') or {}
    if meta.get('backbone'):
        return dict(meta['backbone'])
    cfg_text = meta.get('cfg')
    if not cfg_text:
        return None
    try:
        backbone = Config.fromstring(cfg_text, '.py').model.get('backbone')
    except Exception:  # a config of another tool, not ours to judge
        return None
    return backbone.to_dict() if backbone else None


def encoder_arch(encoder: Optional[dict]) -> dict:
    """The ``arch`` of a recorded ViT encoder config (:func:`
    encoder_config_of`) as a dict (``embed_dims``, ``num_layers``,
    ``num_heads``, ...): recorded as one, or a name looked up in the
    ``arch_zoo`` of the recorded class; ``{}`` when the config has no
    ``arch`` (a ResNet), or names one its class does not know."""
    arch = (encoder or {}).get('arch')
    if isinstance(arch, str) and encoder.get('type'):
        from mmsiam.registry import MODELS
        arch = getattr(MODELS.get(encoder['type']), 'arch_zoo',
                       {}).get(arch.lower())
    return dict(arch) if isinstance(arch, dict) else {}
