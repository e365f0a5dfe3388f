import copy
import math
from typing import Optional, Sequence

import torch
from mmengine.logging import MessageHub
from torch import nn


def cosine_momentum(step: int, max_steps: int, momentum: float,
                    end_momentum: float = 0.) -> float:
    """Weight of the online value at ``step`` (mmengine's convention).

    ``m_k = end - (end - start) * (1 + cos(pi k / K)) / 2``; the target
    keeps ``1 - m_k`` of itself (e.g. 0.995 -> 1 for ``momentum=0.005``).
    """
    progress = min(step / max_steps, 1.0)
    return end_momentum - (end_momentum - momentum) * (
        1 + math.cos(math.pi * progress)) / 2


class MomentumTarget(nn.Module):
    """A target branch: EMA copies of online modules, parameters only.

    ``module`` is a ``ModuleList`` of deep copies (keys
    ``<attr>.module.<i>.*``) with frozen parameters; ``steps`` (saved in
    checkpoints) counts the training iterations its owner has run, from 0
    (:meth:`MomentumTargetSelfSupervisor.update_target` advances it; with
    gradient accumulation an EMA step comes every few iterations). Buffers
    (BatchNorm statistics) are the target's own. A frozen online parameter
    (a fixed position embedding) is copied like the others and stays equal
    to its copy: the EMA of equal values is that value.

    Each :meth:`update` sets, for every target parameter ``t`` with online
    twin ``o``: ``t <- (1 - m_k) * t + m_k * o`` with ``m_k`` from
    :func:`cosine_momentum` at the iteration ``k`` (default ``steps``) over
    ``K = max_iters`` of the current MessageHub (set by the runner).

    Args:
        online (Sequence[nn.Module]): Modules to copy, in order.
        momentum (float): Initial weight of the online value, e.g. 0.005.
        end_momentum (float): Final weight. Defaults to 0.
        copy_buffers (bool): Also copy the online buffers at every update
            (a stop-gradient copy, SimSiam: ``momentum=end_momentum=1``).
            Defaults to False.
    """

    def __init__(self,
                 online: Sequence[nn.Module],
                 momentum: float,
                 end_momentum: float = 0.,
                 copy_buffers: bool = False):
        super().__init__()
        self.module = nn.ModuleList(copy.deepcopy(m) for m in online)
        self.module.requires_grad_(False)
        self.momentum = momentum
        self.end_momentum = end_momentum
        self.copy_buffers = copy_buffers
        self.register_buffer('steps', torch.tensor(0, dtype=torch.long))
        self._pairs_cache = (None, None)

    def pairs(self, online: Sequence[nn.Module]):
        """The target parameters and their online twins, as two lists
        (built once per set of online modules, not at every step). A twin
        of another shape (e.g. sharded differently by FSDP) is a
        ``ValueError`` naming the parameter."""
        key = tuple(map(id, online))
        if self._pairs_cache[0] != key:
            self._pairs_cache = (key, self._build_pairs(online))
        return self._pairs_cache[1]

    def _build_pairs(self, online: Sequence[nn.Module]):
        if len(online) != len(self.module):
            raise ValueError(f'{len(online)} online modules for a target of '
                             f'{len(self.module)}')
        targets, sources = [], []
        for target_module, online_module in zip(self.module, online):
            target_params = dict(target_module.named_parameters())
            for name, source in online_module.named_parameters():
                target = target_params[name]
                if target.shape != source.shape:
                    raise ValueError(
                        f'the EMA target parameter {name} has shape '
                        f'{tuple(target.shape)}, its online twin '
                        f'{tuple(source.shape)}')
                targets.append(target)
                sources.append(source)
        return targets, sources

    @torch.no_grad()
    def copy_from(self, online: Sequence[nn.Module]) -> None:
        """Make the target an exact copy (after the online init)."""
        targets, sources = self.pairs(online)
        torch._foreach_copy_(targets, sources)

    def current_momentum(self, step: Optional[int] = None) -> float:
        """``m_k`` at iteration ``step`` (default: ``steps``)."""
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        if max_iters is None:
            raise RuntimeError(
                'MomentumTarget needs the total number of iterations: run it '
                'inside an mmengine Runner, or call MessageHub.get_current_'
                "instance().update_info('max_iters', N) first")
        step = int(self.steps) if step is None else step
        return cosine_momentum(step, max_iters, self.momentum,
                               self.end_momentum)

    @torch.no_grad()
    def update(self, online: Sequence[nn.Module],
               step: Optional[int] = None) -> float:
        """One EMA step at iteration ``step`` (default: ``steps``); returns
        the online weight ``m_k`` used. ``steps`` is left as it is."""
        momentum = self.current_momentum(step)
        targets, sources = self.pairs(online)
        # t + m (o - t): one multi-tensor pass over the parameters.
        torch._foreach_lerp_(targets, sources, momentum)
        if self.copy_buffers:
            for target_module, online_module in zip(self.module, online):
                for target, source in zip(target_module.buffers(),
                                          online_module.buffers()):
                    target.copy_(source)
        return momentum

