"""The one model builder of the tests, and inputs for the models."""


def build_model(config, init=True, **model_options):
    """The model of ``config`` (``model`` updated with ``model_options``),
    built in the mmsiam scope and, by default, initialised."""
    from mmengine import DefaultScope
    from mmengine.config import Config

    from mmsiam.registry import MODELS
    from mmsiam.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.update(model_options)
    with DefaultScope.overwrite_default_scope('mmsiam'):
        model = MODELS.build(cfg.model)
    if init:
        model.init_weights()
    return model


MULAN_VIEW_TYPES = ['global', 'global', 'local', 'local', 'cutout']


def mulan_samples(batch, view_types=MULAN_VIEW_TYPES):
    """``batch`` data samples carrying the ``view_type`` MULAN's pipeline
    packs."""
    from mmpretrain.structures import DataSample
    return [DataSample(metainfo=dict(view_type=list(view_types)))
            for _ in range(batch)]


def num_parameters(module):
    """The number of parameter elements of ``module``."""
    return sum(p.numel() for p in module.parameters())
