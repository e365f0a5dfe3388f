from .any_device_distributed_data_parallel import \
    AnyDeviceDistributedDataParallel

__all__ = ['AnyDeviceDistributedDataParallel']
