#!/usr/bin/env python
"""Train a model from a config: mmsiam pretraining or a downstream
mmdet / mmseg / mmpretrain benchmark config of this repository."""
import argparse
import difflib
import glob
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction
from torch.distributed.elastic.multiprocessing.errors import record

from mmsiam.checkpoint.safe_loading import (latest_checkpoint,
                                            read_last_checkpoint)
from mmsiam.config_checks import check_config, fit_schedulers_to_run
from mmsiam.engine.runner import knn_summary
from mmsiam.engine.runner_model import runner_model
from mmsiam.runtime import setup_runtime
from mmsiam.utils import (default_work_dir, die_with_launcher,
                          exit_distributed, keep_freed_memory, lock_work_dir,
                          prepare_distributed_env, register_all_modules)
from mmsiam.utils.demo_scale import (add_demo_scale_argument,
                                     apply_demo_scale, checkpoint_option)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and checkpoints (default: '
        './work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from a checkpoint; without a value (or "auto") resume '
        'from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic mixed precision training')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the backbone, neck, head and EMA target '
        '(the config key `compile`, True or a dict of torch.compile '
        'options)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual total batch size '
        '(uses the config\'s auto_scale_lr.base_batch_size)')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not validate during training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs; nested '
        'keys use dots, e.g. train_dataloader.batch_size=8; lists are given '
        'as key="[a,b]" or key=a,b')
    add_demo_scale_argument(parser)
    parser.add_argument(
        '--strategy',
        choices=['ddp', 'fsdp'],
        help='how the processes of a distributed run share the model: ddp '
        '(each holds all of it) or fsdp (FullyShardedDataParallel through '
        'mmengine\'s FlexibleRunner: parameters, gradients and optimizer '
        'state sharded; the config\'s `strategy`, by default '
        'mmsiam.MomentumTargetFSDPStrategy). Default: ddp, or fsdp for a '
        'config with runner_type=\'FlexibleRunner\' (the *-fsdp-* '
        'configs)')
    parser.add_argument(
        '--threads',
        type=int,
        help='intra-op threads of each training process (default on CPUs: '
        'the cores this process may use, shared among the run\'s processes '
        'on this machine, less its data-loader workers, at least 1; '
        'OMP_NUM_THREADS, when set, is kept)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (older: --local_rank).
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    """Apply the command-line options to the config."""
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper == 'AnyDeviceAmpOptimWrapper':
            print('AMP is already enabled in the config.')
        else:
            cfg.optim_wrapper.type = 'AnyDeviceAmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.compile:
        cfg.compile = cfg.get('compile') or True
    if args.resume == 'auto':
        # The work dir's newest checkpoint, checked to be complete; a
        # broken one is an error that lists the others, none at all too.
        cfg.resume = True
        cfg.load_from = latest_checkpoint(cfg.work_dir)
        if cfg.load_from is None:
            raise FileNotFoundError(nothing_to_resume(cfg.work_dir))
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(
                f'--resume {args.resume}: no such checkpoint file')
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise KeyError(
                '--auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                f'base_batch_size=...)` in {args.config}')
        cfg.auto_scale_lr.enable = True
        accumulation = cfg.optim_wrapper.get('accumulative_counts', 1)
        if accumulation > 1:
            # mmengine scales by world size x batch size only; the batch of
            # an optimizer step is accumulative_counts times that.
            base = cfg.auto_scale_lr.base_batch_size
            cfg.auto_scale_lr.base_batch_size = base / accumulation
            print(f'--auto-scale-lr with accumulative_counts={accumulation}: '
                  f'the lr is scaled to the effective batch (world size x '
                  f'batch size x {accumulation}) against {base}')
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.launcher = args.launcher
    config_fsdp = cfg.get('runner_type') == 'FlexibleRunner'
    strategy = args.strategy or ('fsdp' if config_fsdp else 'ddp')
    if strategy == 'fsdp':
        use_fsdp(cfg, args)
    elif config_fsdp:
        # --strategy ddp on an FSDP config: mmengine's Runner.
        cfg.pop('runner_type')
        cfg.pop('strategy', None)
    return cfg


def nothing_to_resume(work_dir):
    """The error of ``--resume`` in a work dir without checkpoints, naming
    the work dirs beside it whose names are close (a typo)."""
    parent, name = osp.split(osp.abspath(work_dir).rstrip(os.sep))
    siblings = [
        d for d in (os.listdir(parent) if osp.isdir(parent) else [])
        if d != name and glob.glob(osp.join(parent, d, '*.pth'))
    ]
    close = difflib.get_close_matches(name, siblings, n=3, cutoff=0.6)
    hint = (' Work dirs with checkpoints beside it: ' +
            ', '.join(osp.join(parent, d) for d in close) + '.') if close \
        else ''
    return (f'--resume: {work_dir} holds no checkpoint to resume (no '
            f'last_checkpoint, no *.pth).{hint} Check --work-dir, or start '
            'a new run without --resume.')


def use_fsdp(cfg, args):
    """Train with mmengine's ``FlexibleRunner`` and an FSDP strategy: the
    config's ``strategy`` or ``mmsiam.MomentumTargetFSDPStrategy``."""
    if args.launcher == 'none':
        raise ValueError(
            'FSDP shards the model over the processes of a distributed '
            'run: launch it with tools/dist_train.sh CONFIG N --strategy '
            'fsdp (or tools/slurm_train.sh); a single process trains with '
            '--strategy ddp')
    if cfg.get('compile'):
        raise ValueError(
            f'--strategy fsdp: {args.config} sets `compile`, which mmsiam '
            'does not support with FSDP; remove it')
    cfg.runner_type = 'FlexibleRunner'
    # The config's strategy options (e.g. --cfg-options
    # strategy.state_dict_cfg=local) over mmsiam's FSDP strategy.
    strategy = dict(type='mmsiam.MomentumTargetFSDPStrategy')
    strategy.update(cfg.get('strategy') or {})
    cfg.strategy = strategy
    # The runner keys of DDP: the strategy takes sync_bn; the DDP wrapper's
    # options have FSDP counterparts in `strategy.model_wrapper`.
    sync_bn = cfg.pop('sync_bn', None)
    if sync_bn:
        cfg.strategy.setdefault('sync_bn', sync_bn)
    cfg.pop('model_wrapper_cfg', None)


def refuse_to_overwrite(cfg):
    """A fresh run must not overwrite the checkpoints of an earlier one."""
    if cfg.get('resume', False):
        return
    old = sorted(glob.glob(osp.join(cfg.work_dir, '*.pth')))
    if old:
        names = ', '.join(osp.basename(p) for p in old[:3])
        raise FileExistsError(
            f'work dir {cfg.work_dir} already holds checkpoints of an '
            f'earlier run ({names}{", ..." if len(old) > 3 else ""}); a new '
            'run would overwrite them. Continue it with --resume, or choose '
            'another --work-dir.')


def refuse_empty_epochs(runner):
    """A data set smaller than one batch, with ``drop_last``, makes epochs
    of no iteration (mmengine: "`epoch_length` must be a positive integer,
    but got 0"): name the sizes and the fix before training. Builds the
    training loader (a listing of the data, no image is read)."""
    loader = runner.train_dataloader
    if len(loader) > 0:
        return
    samples, batch = len(loader.dataset), loader.batch_size
    world = runner.world_size
    per_process = max(1, samples // world)
    largest = 1 << (per_process.bit_length() - 1)
    raise ValueError(
        f'train_dataloader: {samples} samples make no full batch of '
        f'{batch} per process x {world} process(es) (drop_last drops the '
        'incomplete one), so every epoch would be empty. Lower the batch, '
        f'e.g. --cfg-options train_dataloader.batch_size={largest}, or add '
        'data.')


def report_outputs(runner, cfg):
    """Print the kNN monitor's summary and where the run's checkpoint and
    log are."""
    if runner.rank != 0:
        return
    # A run that starts from load_from weights (not a resume) did not start
    # from a random initialisation.
    start = 'loaded weights' if cfg.get('load_from') and not cfg.get(
        'resume') else 'random init'
    summary = knn_summary(runner.message_hub, start=start)
    if summary:
        print(summary)
    last = read_last_checkpoint(runner.work_dir)
    if last:
        print(f'Checkpoint: {last}')
    print(f'Log: {osp.join(runner.log_dir, runner.timestamp + ".log")}')
    print(f'Work dir: {runner.work_dir}')


def set_threads(cfg, threads=None):
    """Set torch's intra-op threads so that the training threads and the
    data-loader workers fit the cores (see ``--threads``); returns the line
    that says what was chosen and why. With 2 OpenMP threads beside 2
    loader workers on 2 shared cores a short run took 64-74 s, with 1 thread
    25 s."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f'--threads {threads}: expected at least 1')
        why = '--threads'
    elif 'OMP_NUM_THREADS' in os.environ:
        return (f'Threads: {torch.get_num_threads()} per process '
                f'(OMP_NUM_THREADS={os.environ["OMP_NUM_THREADS"]})')
    elif torch.cuda.is_available():
        return None
    else:
        cores = len(os.sched_getaffinity(0))
        processes = int(os.environ.get('LOCAL_WORLD_SIZE', 1))
        workers = (cfg.get('train_dataloader') or {}).get('num_workers', 0)
        threads = max(1, cores // processes - workers)
        why = (f'{cores} cores for {processes} process(es), '
               f'{workers} data-loader worker(s) each; --threads overrides')
    torch.set_num_threads(threads)
    return f'Threads: {threads} per process ({why})'


def global_rank():
    """This process's rank in the run (0 outside distributed launches)."""
    return int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', 0)))


# torchrun's failure summary ("Root Cause") shows a worker's error.
@record
def main(argv=None):
    args = parse_args(argv)
    die_with_launcher(args.launcher)
    setup_runtime()
    keeps_freed_memory = (not torch.cuda.is_available()
                          and keep_freed_memory())
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    notes = []
    if args.demo_scale:
        notes.append(apply_demo_scale(
            cfg, checkpoint_option(cfg, args.cfg_options), args.demo_scale))
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    check_config(cfg, phase='train')
    # Every process sets its threads and fits the schedule; one prints.
    notes += [set_threads(cfg, args.threads)] + fit_schedulers_to_run(cfg)
    if global_rank() == 0:
        print('\n'.join(note for note in notes if note))
        lock_work_dir(cfg.work_dir)
    refuse_to_overwrite(cfg)
    prepare_distributed_env(cfg, args.launcher)

    from mmsiam.engine.runner import build_runner
    from mmsiam.models.layers import set_attention_kernel
    from mmsiam.models.utils import compile_model

    # mmsiam compiles the model's parts, not mmengine's whole train_step.
    compile_options = cfg.pop('compile', None)
    attention_kernel = set_attention_kernel(cfg)
    runner = build_runner(cfg)
    runner.logger.info(attention_kernel)
    if keeps_freed_memory:
        runner.logger.info('CPU run: malloc keeps freed memory between '
                           'steps (mmsiam.utils.keep_freed_memory)')
    if compile_options:
        compiled = compile_model(runner_model(runner), compile_options)
        runner.logger.info(f'torch.compile: {", ".join(compiled)} (the first '
                           'iterations compile and are slower)')
    refuse_empty_epochs(runner)
    runner.train()
    report_outputs(runner, cfg)
    exit_distributed()


if __name__ == '__main__':
    sys.exit(main())
