from mmengine.model import MMDistributedDataParallel
from torch import nn

from mmsiam.models.layers import AnyDeviceSyncBatchNorm
from mmsiam.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class AnyDeviceDistributedDataParallel(MMDistributedDataParallel):
    """mmengine's ``MMDistributedDataParallel`` with synchronised BatchNorm
    on any device: the wrapper of CPU runs over gloo.

    torch's ``SyncBatchNorm`` runs on GPUs only (DDP refuses it: "SyncBatchNorm
    layers only work with GPU modules"). Before wrapping, every torch
    ``SyncBatchNorm`` of the module (``SyncBN`` norm layers, including the
    defaults of mmdet / mmseg modules) becomes
    :class:`~mmsiam.models.layers.AnyDeviceSyncBatchNorm`, which
    synchronises over gloo as well; with ``sync_bn=True`` (the runner key
    ``sync_bn`` of the config, which on GPUs makes mmengine convert every
    BatchNorm) every BatchNorm does. Parameters and buffers are kept (the
    same tensors), so the state dict is unchanged. One log line counts the
    converted layers. Without CUDA,
    :func:`mmsiam.utils.prepare_distributed_env` makes it the model
    wrapper.

    Args:
        module (nn.Module): The model.
        sync_bn (bool): Synchronise every BatchNorm, not only the
            ``SyncBatchNorm`` ones. Defaults to False.
        **kwargs: ``MMDistributedDataParallel`` arguments.
    """

    def __init__(self, module: nn.Module, sync_bn: bool = False, **kwargs):
        module = AnyDeviceSyncBatchNorm.synchronise(module, sync_bn)
        super().__init__(module=module, **kwargs)
