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
