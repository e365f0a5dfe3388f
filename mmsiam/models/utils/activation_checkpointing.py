import functools
import types
from typing import Iterable

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint


def checkpoint_layers(layers: Iterable[nn.Module]) -> None:
    """Activation checkpointing (``with_cp``) for the blocks of an encoder.

    Each layer's forward runs under non-reentrant
    ``torch.utils.checkpoint.checkpoint`` whenever gradients are enabled: its
    inner activations are freed after the forward and recomputed in the
    backward (about one more forward of the layer, for the memory of one
    layer's activations instead of all). Outputs and gradients are those of
    the plain forward; a no-grad forward (an EMA target copy, evaluation)
    runs the layer directly. The state dict is unchanged, and a deep copy
    (the EMA target) checkpoints its own layers.
    """
    for layer in layers:
        # A bound method: deepcopy rebinds it to the copied layer.
        layer.forward = types.MethodType(_checkpointed_forward, layer)


def _checkpointed_forward(layer: nn.Module, *args, **kwargs):
    forward = functools.partial(type(layer).forward, layer)
    if not torch.is_grad_enabled():
        return forward(*args, **kwargs)
    return checkpoint(forward, *args, use_reentrant=False, **kwargs)
