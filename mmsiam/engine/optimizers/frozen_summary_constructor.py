from typing import Dict, List

from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from torch import nn

from mmsiam.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class FrozenSummaryOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor that reports frozen modules in one
    line instead of a warning per parameter tensor.

    With a ``paramwise_cfg``, mmengine leaves every parameter with
    ``requires_grad=False`` out of the optimizer and warns once per tensor:
    a momentum target branch (``target.*``) or a linear probe's frozen ViT-B
    gives some 200 warnings at every start, which bury the warnings that
    matter. Here a module none of whose parameters trains is left out as a
    whole, and one info line names these modules and how many tensors they
    hold. Param groups, their options and their order are exactly those of
    ``DefaultOptimWrapperConstructor`` (a partly frozen module still goes
    through mmengine, warnings included).

    Use as ``optim_wrapper = dict(constructor=
    'FrozenSummaryOptimWrapperConstructor', paramwise_cfg=...)``.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        self._frozen: Dict[str, int] = {}  # module prefix -> tensor count
        optim_wrapper = super().__call__(model)
        if self._frozen:
            modules = ', '.join(f'{prefix} ({count})'
                                for prefix, count in self._frozen.items())
            total = sum(self._frozen.values())
            print_log(
                f'{total} frozen parameter tensors (requires_grad=False) are '
                f'left out of the optimizer; by module: {modules}',
                logger='current')
        return optim_wrapper

    def add_params(self, params: List[dict], module: nn.Module,
                   prefix: str = '', **kwargs) -> None:
        tensors = list(module.parameters())
        if tensors and not any(p.requires_grad for p in tensors):
            self._frozen[prefix or type(module).__name__] = len(tensors)
            return
        super().add_params(params, module, prefix, **kwargs)
