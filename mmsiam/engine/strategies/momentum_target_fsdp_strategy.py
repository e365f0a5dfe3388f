import copy
from functools import partial
from typing import Optional, Set

import torch
from mmengine._strategy import FSDPStrategy
from mmengine.logging import print_log
from mmengine.optim import BaseOptimWrapper, build_optim_wrapper
from torch import nn
from torch.distributed.fsdp import FullyShardedDataParallel
from torch.distributed.fsdp.wrap import lambda_auto_wrap_policy

from mmsiam.models.algorithms import MomentumTargetSelfSupervisor
from mmsiam.models.layers import AnyDeviceSyncBatchNorm
from mmsiam.models.utils import MomentumTarget
from mmsiam.registry import STRATEGIES
from mmsiam.utils import broadcast_from_process0


def fsdp_units(model: nn.Module) -> Set[nn.Module]:
    """The modules that become their own FSDP unit, besides the root.

    * the encoder ``backbone`` and projector ``neck`` and, for a model with
      a :class:`MomentumTarget` ``target``, their copies
      ``target.module[i]``;
    * every block of a repeated stack: the elements of an ``nn.ModuleList``
      of two or more modules of one class with parameters (transformer
      layers, also in the head), so one block at a time is unsharded.

    A unit is gathered by its ``forward`` only; the head is called through
    ``head.loss`` and keeps its other parameters in the root unit, which is
    gathered for the whole forward. An online module and its EMA copy have
    the same structure and are cut into the same units, so FSDP shards each
    pair identically: the EMA step runs on the local shards.
    """
    units = {
        module
        for module in (getattr(model, 'backbone', None),
                       getattr(model, 'neck', None))
        if module is not None and has_parameters(module)
    }
    target = getattr(model, 'target', None)
    if isinstance(target, MomentumTarget):
        units.update(target.module)
    for module in model.modules():
        if isinstance(module, nn.ModuleList) and is_block_stack(module):
            units.update(module)
    return units


def has_parameters(module: nn.Module) -> bool:
    return next(module.parameters(), None) is not None


def is_block_stack(modules: nn.ModuleList) -> bool:
    """Whether ``modules`` holds two or more modules of one class, each with
    parameters."""
    blocks = list(modules)
    return (len(blocks) > 1 and len({type(b) for b in blocks}) == 1
            and all(map(has_parameters, blocks)))


@STRATEGIES.register_module()
class MomentumTargetFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` (``FlexibleRunner``) for mmsiam's models,
    on GPUs and on CPU processes over gloo.

    torch's ``FullyShardedDataParallel`` (FSDP1) shards every unit's
    parameters, gradients and optimizer state over the processes. What this
    strategy adds to mmengine's:

    * **EMA targets on shards.** The default ``auto_wrap_policy`` makes the
      units of :func:`fsdp_units`: encoder, projector, each target copy and
      every transformer block. An online module and its EMA copy
      are sharded alike, so :class:`MomentumTarget` steps the local shards
      (``use_orig_params=True`` exposes them as the original parameters),
      before the forward (SiameseIM, MULAN) or after the optimizer step
      (ConMIM); a policy of the config that breaks the pairing is an error
      naming the first mismatched parameter.
    * **The optimizer sees the model.** It is built on the unsharded model,
      so ``paramwise_cfg`` (decay of 1-D parameters, norms, biases, layer
      decay) sees the real shapes and names; FSDP keeps the parameter
      objects (``use_orig_params``), whose data become the local shards
      that the optimizer then steps. (mmengine rebuilds the optimizer on
      the sharded parameters instead, with arguments that torch's AdamW no
      longer accepts.)
    * **Gradient clipping by norm** clips the norm of the whole gradient
      (FSDP's ``clip_grad_norm_``), not of each process's shard.
    * **Synchronised BatchNorm** (``sync_bn``, ``SyncBN`` layers) as with
      DDP, on CPU processes as
      :class:`~mmsiam.models.layers.AnyDeviceSyncBatchNorm`.
    * **Any device.** Without CUDA the units live on the CPU
      (``device_id=torch.device('cpu')``); with CUDA on ``LOCAL_RANK``.
      Process 0's initial weights and buffers reach every process before
      sharding, as with DDP: FSDP's ``sync_module_states`` on GPUs, a
      broadcast over gloo on CPU processes (where FSDP refuses it).

    Checkpoints are full-state (``state_dict_cfg='full'``): one file on
    process 0 with the keys and layout of a DDP checkpoint, which
    ``--resume``, ``extract_backbone.py`` and the downstream configs read
    as they are. mmengine's sharded form (``'local'``: a directory of one
    file per process) is refused with an error, since those tools read
    whole files. See ``docs/distributed.md``.

    Args:
        model_wrapper (dict, optional): ``MMFullyShardedDataParallel``
            options; merged over ``use_orig_params=True`` and the wrap
            policy above.
        state_dict_cfg (str | dict): ``'full'`` (default), or an FSDP
            full-state-dict config as mmengine's.
        **kwargs: The other ``FSDPStrategy`` arguments.
    """

    def __init__(self,
                 *,
                 model_wrapper: Optional[dict] = None,
                 state_dict_cfg='full',
                 **kwargs):
        wrapper = dict(
            type='MMFullyShardedDataParallel',
            use_orig_params=True)
        wrapper.update(model_wrapper or {})
        if not wrapper['use_orig_params']:
            raise ValueError(
                'MomentumTargetFSDPStrategy needs model_wrapper.'
                'use_orig_params=True: the EMA step and the optimizer work '
                'on the original parameters')
        super().__init__(
            model_wrapper=wrapper, state_dict_cfg=state_dict_cfg, **kwargs)
        if not self._is_full_state_dict():
            raise ValueError(
                'MomentumTargetFSDPStrategy: state_dict_cfg='
                f"{state_dict_cfg!r} writes one shard file per process; "
                "mmsiam's --resume, checkpoint checks and exporters read "
                "whole checkpoint files: use state_dict_cfg='full'")
        if not torch.cuda.is_available():
            # torch's full optimizer state dict gathers every state of a
            # parameter into one buffer and keeps views of it when
            # offload_to_cpu's .cpu() is a no-op (already on the CPU): all
            # states come out as the last one (exp_avg == exp_avg_sq).
            # Without offloading it clones them.
            for config in (self.state_dict_config,
                           self.optim_state_dict_config):
                if hasattr(config, 'offload_to_cpu'):
                    config.offload_to_cpu = False
        # The optimizer wrapper config given to prepare() and the wrapper
        # _wrap_model builds from it on the unsharded model.
        self._optim_wrapper_cfg = None
        self._built_optim_wrapper = None

    def prepare(self, model, *, optim_wrapper=None, **kwargs):
        # _wrap_model builds the optimizer on the unsharded model.
        self._optim_wrapper_cfg = optim_wrapper if isinstance(
            optim_wrapper, dict) else None
        return super().prepare(model, optim_wrapper=optim_wrapper, **kwargs)

    def convert_model(self, model: nn.Module) -> nn.Module:
        """Synchronised BatchNorm (``sync_bn``, torch's ``SyncBatchNorm``
        layers) as with DDP: mmengine's conversion with CUDA,
        :meth:`AnyDeviceSyncBatchNorm.synchronise` without."""
        if torch.cuda.is_available():
            return super().convert_model(model)
        return AnyDeviceSyncBatchNorm.synchronise(model, bool(self.sync_bn))

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        # mmengine's FSDPStrategy does not convert BatchNorms.
        model = self.convert_model(model)
        if self._optim_wrapper_cfg is not None:
            # FSDP keeps the parameter objects (use_orig_params), so this
            # optimizer then steps their shards.
            self._built_optim_wrapper = build_optim_wrapper(
                model, fsdp_optim_wrapper_cfg(self._optim_wrapper_cfg))
        self.model_wrapper.setdefault(
            'auto_wrap_policy',
            partial(lambda_auto_wrap_policy,
                    lambda_fn=fsdp_units(model).__contains__))
        if torch.cuda.is_available():
            # FSDP broadcasts on the GPU (NCCL cannot send CPU tensors).
            self.model_wrapper.setdefault('sync_module_states', True)
        else:
            self.model_wrapper.setdefault('device_id', torch.device('cpu'))
            broadcast_from_process0(
                model.state_dict(keep_vars=True).values())
        total = sum(p.numel() for p in model.parameters())
        wrapped = super()._wrap_model(model)
        # FSDP sets up its root at the first forward of the outer unit; the
        # kNN monitor calls the encoder's unit before any training step,
        # which would make that unit a root of its own. Entering no_sync
        # (and nothing else) runs the root's set-up now.
        with wrapped.no_sync():
            pass
        check_target_shards(wrapped)
        print_log(sharding_summary(wrapped, total), logger='current')
        return wrapped

    def optim_state_dict(self) -> dict:
        """FSDP's full state dict of the torch optimizer (keyed by
        parameter name) with the wrapper's own entries (loss scaler,
        settings of frozen parameters)."""
        state = FullyShardedDataParallel.optim_state_dict(
            self.model, self.optim_wrapper.optimizer)
        state.update(wrapper_entries(self.optim_wrapper.state_dict()))
        return state

    def load_optim_state_dict(self, state_dict: dict) -> None:
        extra = wrapper_entries(state_dict)
        optimizer = {k: v for k, v in state_dict.items() if k not in extra}
        # Keywords: mmengine passes them in torch 1.x's order.
        optimizer = FullyShardedDataParallel.optim_state_dict_to_load(
            model=self.model,
            optim=self.optim_wrapper.optimizer,
            optim_state_dict=optimizer)
        self.optim_wrapper.load_state_dict({**optimizer, **extra})

    def build_optim_wrapper(self, optim_wrapper, model=None
                            ) -> BaseOptimWrapper:
        if isinstance(optim_wrapper,
                      dict) and self._built_optim_wrapper is not None:
            optim_wrapper, self._built_optim_wrapper = (
                self._built_optim_wrapper, None)
        else:
            optim_wrapper = super().build_optim_wrapper(optim_wrapper, model)
        if getattr(optim_wrapper, 'clip_func',
                   None) is torch.nn.utils.clip_grad_norm_:
            optim_wrapper.clip_func = partial(clip_global_grad_norm,
                                              self.model)
        return optim_wrapper


def wrapper_entries(state_dict: dict) -> dict:
    """The entries of an optimizer wrapper's state dict that are not the
    torch optimizer's."""
    return {
        k: v
        for k, v in state_dict.items() if k not in ('state', 'param_groups')
    }


def fsdp_optim_wrapper_cfg(cfg: dict) -> dict:
    """``cfg`` with ``use_fsdp=True`` for AMP wrappers (FSDP's sharded
    gradient scaler for fp16)."""
    cfg = copy.deepcopy(cfg)
    wrapper_type = str(cfg.get('type', 'OptimWrapper')).split('.')[-1]
    if wrapper_type in ('AmpOptimWrapper', 'AnyDeviceAmpOptimWrapper'):
        cfg.setdefault('use_fsdp', True)
    return cfg


def sharding_summary(model: FullyShardedDataParallel, total: int) -> str:
    """One log line that says how ``model`` (``total`` parameter elements
    before sharding) is sharded."""
    units = FullyShardedDataParallel.fsdp_modules(model)
    # use_orig_params: each parameter is a view of this process's shard.
    local = sum(p.numel() for p in model.parameters())
    return (f'FSDP: the model is sharded over {model.world_size} processes '
            f'({model.sharding_strategy.name}) in {len(units)} units; this '
            f'process holds {local:,} of its {total:,} parameter elements')


def clip_global_grad_norm(model: FullyShardedDataParallel, params,
                          max_norm: float, norm_type: float = 2.0,
                          **kwargs) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` over the gradients of all
    processes: the root FSDP unit's ``clip_grad_norm_`` (``params``, this
    process's shards, are the ones it clips)."""
    return model.clip_grad_norm_(max_norm, norm_type)


def check_target_shards(model: nn.Module) -> None:
    """Raise if an EMA target parameter and its online twin are sharded
    differently (an ``auto_wrap_policy`` that cuts them into other units);
    pairs them now, at wrapping, rather than at the first EMA step."""
    inner = getattr(model, 'module', model)
    if not isinstance(inner, MomentumTargetSelfSupervisor):
        return
    try:
        inner.target.pairs(inner.online_modules)
    except ValueError as error:
        raise ValueError(
            f'FSDP: {error}: the auto_wrap_policy must cut the online '
            'modules and their target copies into the same units (leave '
            'model_wrapper.auto_wrap_policy unset for the default)'
        ) from error
