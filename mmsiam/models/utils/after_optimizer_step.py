import weakref
from typing import Callable

from torch import nn
from torch.optim import Optimizer
from torch.optim.optimizer import register_optimizer_step_post_hook

# module -> its optimizer hook (one per module, dropped with the module)
_HOOKED: 'weakref.WeakKeyDictionary[nn.Module, Callable]' = \
    weakref.WeakKeyDictionary()


def _updates(optimizer: Optimizer, module: nn.Module) -> bool:
    """Whether ``optimizer`` holds a trainable parameter of ``module``."""
    held = {id(p) for group in optimizer.param_groups for p in group['params']}
    return any(id(p) in held for p in module.parameters() if p.requires_grad)


def call_after_optimizer_steps(module: nn.Module,
                               callback: Callable[[nn.Module], None]) -> None:
    """Call ``callback(module)`` after every ``step()`` of any torch
    optimizer that updates ``module``'s trainable parameters.

    This is torch's own ``register_optimizer_step_post_hook``, so it fires
    wherever the step is taken: mmengine's ``OptimWrapper`` on one process,
    under DDP, with gradient accumulation (once per real step) and after
    ``GradScaler.step``. A step that AMP skips for non-finite gradients
    counts too when the optimizer wrapper reports it with
    :func:`run_after_skipped_step` (``AnyDeviceAmpOptimWrapper`` does).
    Optimizers of other modules are ignored. Registering twice for one
    module is a no-op; the hook holds the module weakly and goes with it.
    """
    if module in _HOOKED:
        return
    module_ref = weakref.ref(module)
    owned: 'weakref.WeakKeyDictionary[Optimizer, bool]' = \
        weakref.WeakKeyDictionary()

    def after_step(optimizer: Optimizer, args, kwargs) -> None:
        target = module_ref()
        if target is None:
            return
        if optimizer not in owned:
            owned[optimizer] = _updates(optimizer, target)
        if owned[optimizer]:
            callback(target)

    handle = register_optimizer_step_post_hook(after_step)
    _HOOKED[module] = after_step
    weakref.finalize(module, handle.remove)


def run_after_skipped_step(optimizer: Optimizer) -> None:
    """Run the callbacks of :func:`call_after_optimizer_steps` for a step
    of ``optimizer`` that loss scaling skipped (torch's post-step hooks
    run only when the optimizer steps)."""
    for after_step in list(_HOOKED.values()):
        after_step(optimizer, (), {})
