from typing import Union

from torch import nn

# The parts of a self-supervisor that do the tensor work of a step.
COMPILED_PARTS = ('backbone', 'neck', 'head')


def compile_model(model: nn.Module, options: Union[bool, dict] = True
                  ) -> list:
    """``torch.compile`` the parts of a self-supervisor in place (the
    ``compile`` key of a config, ``tools/train.py --compile``).

    The backbone, neck and head and every module of an EMA target
    (``target.module.<i>``) are compiled with ``nn.Module.compile``, so
    their forward and backward run as fused graphs; the algorithm's
    ``loss()`` glue, the EMA step and the optimizer stay eager. (mmengine's
    own ``compile`` compiles the whole ``train_step``, which breaks its
    graph at the EMA step, the backward and the optimizer.) The state dict
    keys are unchanged.

    Args:
        model (nn.Module): The algorithm, unwrapped.
        options (bool | dict): True, or ``torch.compile`` options (e.g.
            ``dict(mode='max-autotune')``); False compiles nothing.

    Returns:
        list[str]: The names of the compiled modules.
    """
    if options is False or options is None:
        return []
    options = {} if options is True else dict(options)
    names = [name for name in COMPILED_PARTS
             if isinstance(getattr(model, name, None), nn.Module)]
    target = getattr(model, 'target', None)
    if target is not None:
        names += [f'target.module.{i}' for i in range(len(target.module))]
    for name in names:
        model.get_submodule(name).compile(**options)
    return names
