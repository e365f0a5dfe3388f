from mmengine.model import is_model_wrapper
from torch import nn
from torch.distributed.fsdp import FullyShardedDataParallel, StateDictType


def runner_model(runner) -> nn.Module:
    """The runner's model without its DDP / FSDP wrapper."""
    model = runner.model
    return model.module if is_model_wrapper(model) else model


def model_state_layout(runner) -> dict:
    """The runner's model state dict, keyed as in a checkpoint, with the
    shapes of the whole tensors: under FSDP its sharded form (DTensors of
    the global shapes; nothing is gathered, and every process must call
    it), else the unwrapped model's ``state_dict()``."""
    model = runner.model
    if isinstance(model, FullyShardedDataParallel):
        with FullyShardedDataParallel.state_dict_type(
                model, StateDictType.SHARDED_STATE_DICT):
            return model.state_dict()
    return runner_model(runner).state_dict()
