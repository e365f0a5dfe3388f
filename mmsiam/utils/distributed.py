"""Distributed set-up that works with and without CUDA."""
import datetime
import logging
import os
import sys
import warnings
from typing import Iterable

import torch
import torch.distributed as dist
from mmengine.config import Config


def prepare_distributed_env(cfg: Config, launcher: str) -> None:
    """Make ``cfg`` run distributed on the devices this machine has.

    On a CUDA machine nothing changes (the config's backend, e.g. NCCL, and
    one device per process). Without CUDA the run uses CPU processes:

    * the backend becomes ``gloo`` (``env_cfg.dist_cfg.backend``);
    * DDP gets ``device_ids=None``, as CPU modules require;
    * synchronised BatchNorm keeps its GPU semantics: the model wrapper
      becomes ``mmsiam.AnyDeviceDistributedDataParallel``, which turns
      torch's GPU-only ``SyncBatchNorm`` layers (``SyncBN`` norm configs
      and module defaults) into
      :class:`~mmsiam.models.layers.AnyDeviceSyncBatchNorm`, synchronised
      over gloo, and takes over the ``sync_bn`` runner key (every
      BatchNorm), which mmengine would turn into torch's; one log line
      counts the layers. A config with a wrapper type of its own keeps it
      (``sync_bn`` is then dropped with a warning);
    * FSDP runs (``runner_type='FlexibleRunner'``) keep their strategy,
      which handles the CPU itself
      (:class:`~mmsiam.engine.MomentumTargetFSDPStrategy`);
    * for the ``pytorch`` launcher the process group is initialised here,
      because mmengine's initialiser calls ``torch.cuda.set_device``.

    Args:
        cfg (Config): The full runner config; modified in place.
        launcher (str): ``none``, ``pytorch``, ``slurm`` or ``mpi``.
    """
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs CUDA devices; on a machine without '
            'CUDA use tools/dist_train.sh (--launcher pytorch), which runs '
            'CPU processes over gloo.')
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    if cfg.get('runner_type') != 'FlexibleRunner':
        use_any_device_ddp(cfg)
    if not dist.is_initialized():
        timeout = env_cfg['dist_cfg'].get('timeout')
        kwargs = {}
        if timeout is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            **kwargs)


def use_any_device_ddp(cfg: Config) -> None:
    """The DDP wrapper of CPU processes (see :func:`prepare_distributed_env`);
    ``cfg`` is modified in place."""
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    if wrapper.get('type', 'MMDistributedDataParallel') == (
            'MMDistributedDataParallel'):
        wrapper['type'] = 'mmsiam.AnyDeviceDistributedDataParallel'
        wrapper['sync_bn'] = bool(cfg.get('sync_bn'))
    elif cfg.get('sync_bn'):
        warnings.warn(f'sync_bn={cfg.sync_bn!r} needs CUDA and the config '
                      f'wraps the model in {wrapper["type"]}; BatchNorm '
                      'statistics stay per process')
    if 'sync_bn' in cfg:  # mmengine would convert to torch's (GPU only)
        cfg.sync_bn = None
    cfg.model_wrapper_cfg = wrapper


@torch.no_grad()
def broadcast_from_process0(tensors: Iterable[torch.Tensor]) -> None:
    """Overwrite each of ``tensors`` in place with process 0's copy (its
    shape and dtype must be the same on every process); nothing happens in
    a single process."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    if dist.get_world_size() == 1:
        return
    for tensor in tensors:
        dist.broadcast(tensor.data, src=0)


def exit_distributed() -> None:
    """End a distributed tool run; nothing happens in a single process.

    Waits for every rank, destroys the process group, flushes the streams
    and the log files, and ends the process with status 0 without the
    interpreter's teardown: there, process-group objects still referenced
    (e.g. by the DDP wrapper) are destroyed in arbitrary order, and gloo can
    abort a rank ("terminate called without an active exception") after all
    its work is done, failing the whole launch. Call it last.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.barrier()
    dist.destroy_process_group()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(0)


def die_with_launcher(launcher: str) -> None:
    """Make this worker die when its launcher does, whatever signal ended it.

    torchrun starts its workers in sessions of their own, so a ``kill`` of
    the launcher's process group (``kill -9 -- -PGID`` of
    ``tools/dist_train.sh``) misses them and they train on, writing into
    the work dir. For the ``pytorch`` launcher this asks the kernel to send
    the worker ``SIGKILL`` when its parent, torchrun's agent, ends
    (``prctl(PR_SET_PDEATHSIG)``, Linux), and exits at once if the agent is
    already gone. Data-loader workers follow their worker (torch checks
    their parent). Other launchers (slurm's ``srun``) manage their tasks;
    nothing changes for them.
    """
    if launcher != 'pytorch' or not sys.platform.startswith('linux'):
        return
    import ctypes
    import signal
    parent = os.getppid()
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) != 0:
        warnings.warn('could not tie this worker to its launcher '
                      f'(prctl errno {ctypes.get_errno()}): it outlives a '
                      'killed launcher')
        return
    if os.getppid() != parent:  # the launcher died before prctl
        os._exit(1)
