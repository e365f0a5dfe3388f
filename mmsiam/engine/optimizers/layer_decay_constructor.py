from functools import partial

from mmpretrain.engine.optimizers import \
    LearningRateDecayOptimWrapperConstructor

from mmsiam.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LayerDecayOptimWrapperConstructor(
        LearningRateDecayOptimWrapperConstructor):
    """Layer-wise lr decay for any model whose ``backbone`` has
    ``get_layer_depth`` (mmsiam ``ViTDet``, mmpretrain ViTs): detectors and
    segmentors of mmdet / mmseg included, which mmpretrain's constructor
    rejects and mmdet's / mmseg's handle only for ConvNeXt / BEiT / MAE.

    A parameter of layer id ``i`` (of ``n`` ids) gets
    ``lr = base_lr * layer_decay_rate ** (n - 1 - i)``: for a 12-block ViT
    the patch / position embedding has id 0, block ``k`` id ``k + 1`` and
    everything outside the backbone id 13 (full lr). Weight decay options
    (``norm_decay_mult``, ``bias_decay_mult``, ``flat_decay_mult``,
    ``custom_keys``) work as in mmengine.

    Use from mmdet / mmseg configs as
    ``constructor='mmsiam.LayerDecayOptimWrapperConstructor'`` with
    ``paramwise_cfg=dict(layer_decay_rate=0.7, ...)``.
    """

    def add_params(self, params, module, prefix='', get_layer_depth=None,
                   **kwargs):
        if get_layer_depth is None and not hasattr(module, 'get_layer_depth'):
            backbone = getattr(module, 'backbone', None)
            if backbone is None or not hasattr(backbone, 'get_layer_depth'):
                raise NotImplementedError(
                    f'layer-wise lr decay needs {type(module).__name__} or '
                    'its backbone to have a `get_layer_depth` method')
            get_layer_depth = partial(
                backbone.get_layer_depth, prefix=prefix + 'backbone.')
        super().add_params(params, module, prefix, get_layer_depth, **kwargs)
