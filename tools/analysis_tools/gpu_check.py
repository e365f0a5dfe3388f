#!/usr/bin/env python
"""One command for the first machine with GPUs: a few training iterations
of every paper config on the GPUs present, in every precision, strategy and
attention kernel, as one table.

For each config it runs, in fresh processes (``torchrun`` for DDP and FSDP,
one process per GPU):

* fp16 AMP (``AnyDeviceAmpOptimWrapper`` with a GradScaler, the config's
  ``loss_scale``) and bf16 AMP (``--precisions``, fp32 too on request);
* one process, DDP over NCCL and FSDP (``MomentumTargetFSDPStrategy``)
  with 2 GPUs or more (``--strategies``);
* for the ViT configs in one process, each of torch's SDPA backends (flash,
  memory-efficient, math) and the explicit products beside the measured
  choice (``--attention``).

The steps run at the optimizer's base learning rate from the random
initialisation, without the schedules' warm-up (no data set is read, so
there are no epochs): a harder test of fp16 loss scaling than a run's
first iterations.

and reports per row the median step time, images per second over all
processes, the model FLOPs utilisation against the GPU's data-sheet peak
(``pretrain_step.NOMINAL_GPU_PEAK_TFLOPS``; the measured matmul peak where
the GPU is not listed, and on CPU), the peak memory of a process, whether
every loss was finite (and the final loss scale with a GradScaler), and
whether the EMA target moved as the recipe says in one more, untimed step
(``t <- t + m (o - t)`` with the scheduled ``m``, before the forward or
after the optimizer step as the method puts it). With
``--official-checkout`` (see ``benchmark_vs_official.py``) the official
code's step of the same batch size stands beside the ViT-B configs'.

A variant that fails (out of memory, no kernel for an SDPA backend, a
NCCL error) is a row with its error; the other rows still run.

Examples::

    # everything, on the GPUs of this machine
    python tools/analysis_tools/gpu_check.py
    # two configs, bf16 only, with the official codes beside
    python tools/analysis_tools/gpu_check.py \\
        configs/siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py \\
        configs/conmim/conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py \\
        --precisions bf16 --official-checkout \\
        siameseim=../Siamese-Image-Modeling conmim=../ConMIM
    # the same check on CPU processes (gloo), as its test runs it
    python tools/analysis_tools/gpu_check.py CONFIG --device cpu \\
        --processes 2 --batch-size 4 --iters 1
"""
import argparse
import contextlib
import glob
import json
import math
import os
import os.path as osp
import socket
import statistics
import subprocess
import sys
import tempfile

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)

# The paper configs: every method folder's configs but the _demo ones.
PAPER_CONFIGS = sorted(
    path for path in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if not path.endswith('_demo.py') and osp.basename(osp.dirname(path))
    not in ('_base_', 'demo', 'benchmarks'))
PRECISIONS = ('fp32', 'fp16', 'bf16')
STRATEGIES = ('single', 'ddp', 'fsdp')
# 'auto': the kernel mmsiam measures; the SDPA backends force torch's
# kernel with only that backend allowed; 'explicit' the explicit products.
SDPA_BACKENDS = ('flash', 'efficient', 'math')
ATTENTION = ('auto', ) + SDPA_BACKENDS + ('explicit', )
ROWS_PREFIX = 'GPU_CHECK_ROWS '


def parse_args(argv=None):
    from benchmark_vs_official import add_checkout_argument, parse_checkouts
    parser = argparse.ArgumentParser(
        description='A few training iterations of every paper config on '
        'the GPUs present, as one table (docs/performance.md, "On CUDA")')
    parser.add_argument('configs', nargs='*', default=PAPER_CONFIGS,
                        help='configs to check (default: every paper '
                        'config)')
    parser.add_argument('--precisions', nargs='+', choices=PRECISIONS,
                        default=['fp16', 'bf16'])
    parser.add_argument('--strategies', nargs='+', choices=STRATEGIES,
                        help='default: single, and ddp and fsdp with 2 '
                        'processes or more')
    parser.add_argument('--attention', nargs='+', choices=ATTENTION,
                        default=list(ATTENTION),
                        help='attention kernels of the ViT configs, in one '
                        'process (the other rows: auto)')
    parser.add_argument('--batch-size', type=int,
                        help="per process (default: the config's)")
    parser.add_argument('--iters', type=int, default=5, help='timed steps')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed steps first (1 or more: the EMA check '
                        'needs a target that differs from the online '
                        'weights)')
    parser.add_argument('--device', choices=['cuda', 'cpu'],
                        help='default: cuda if present')
    parser.add_argument('--processes', type=int,
                        help='processes of DDP / FSDP (default: every GPU; '
                        '2 on CPU)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value pairs merged into every config')
    add_checkout_argument(parser, 'the official code\'s step beside the '
                          'ViT-B configs\'')
    parser.add_argument('--timeout', type=int, default=1200,
                        help='seconds per process group')
    parser.add_argument('--out', help='also write the rows as JSON here')
    # One config and strategy in this process (what the launcher runs).
    parser.add_argument('--worker', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    import torch
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device here; --device cpu runs '
                     'the same check with CPU processes (gloo)')
    devices = (torch.cuda.device_count() if args.device == 'cuda' else 2)
    args.processes = args.processes or devices
    if args.device == 'cuda' and args.processes > devices:
        parser.error(f'--processes {args.processes}: only {devices} GPUs')
    if args.strategies is None:
        args.strategies = ['single'] + (
            ['ddp', 'fsdp'] if args.processes > 1 else [])
    if args.processes < 2 and set(args.strategies) & {'ddp', 'fsdp'}:
        parser.error(f'--strategies ddp / fsdp need 2 processes or more; '
                     f'{args.processes} {args.device} device(s) here')
    for config in args.configs:
        if not osp.isfile(config):
            parser.error(f'{config}: no such config file')
    if args.iters < 1 or args.warmup < 1:
        parser.error('--iters and --warmup must be 1 or more (the EMA '
                     'check needs an earlier step)')
    args.checkouts = parse_checkouts(parser, args.official_checkout)
    return args


# ----- one process: the variants of one config and strategy -----


def is_vit(cfg) -> bool:
    """Whether the config's encoder has attention (a ViT)."""
    return 'vit' in cfg.model.backbone.type.lower()


def attention_context(attention: str):
    """Force the kernel of ``attention`` (mmsiam's choice for 'auto')."""
    from mmsiam.models.layers import ATTENTION_KERNELS
    ATTENTION_KERNELS.force('explicit' if attention == 'explicit' else
                            'auto' if attention == 'auto' else 'sdpa')
    if attention not in SDPA_BACKENDS:
        return contextlib.nullcontext()
    from torch.nn.attention import SDPBackend, sdpa_kernel
    backend = dict(flash=SDPBackend.FLASH_ATTENTION,
                   efficient=SDPBackend.EFFICIENT_ATTENTION,
                   math=SDPBackend.MATH)[attention]
    return sdpa_kernel([backend])


def wrap(model, cfg, strategy, wrapper_cfg, device):
    """The model and optimizer wrapper of ``strategy``."""
    import torch
    from mmengine.model import MMDistributedDataParallel
    from mmengine.optim import build_optim_wrapper

    from mmsiam.engine.strategies import MomentumTargetFSDPStrategy
    from mmsiam.models.layers import AnyDeviceSyncBatchNorm
    if strategy == 'fsdp':
        fsdp = MomentumTargetFSDPStrategy(
            work_dir=tempfile.mkdtemp(prefix='gpu_check_'),
            sync_bn=cfg.get('sync_bn'))
        return fsdp.prepare(model, optim_wrapper=wrapper_cfg)
    if strategy == 'ddp' and cfg.get('sync_bn'):
        if device.type == 'cuda':
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        else:
            model = AnyDeviceSyncBatchNorm.synchronise(model, True)
    optim_wrapper = build_optim_wrapper(model, wrapper_cfg)
    if strategy == 'ddp':
        model = MMDistributedDataParallel(
            module=model,
            device_ids=[device.index] if device.type == 'cuda' else None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    return model, optim_wrapper


def ema_pairs(model):
    """The EMA target's parameters and their online twins (local shards
    under FSDP), or None for a model without a target."""
    inner = getattr(model, 'module', model)
    if not hasattr(inner, 'target'):
        return None
    return inner, inner.target.pairs(inner.online_modules)


def ema_error(model, step) -> str:
    """Run ``step`` and check the EMA of that step: every target parameter
    ``t1 = t0 + m (o - t0)``, ``o`` the online value before the forward or
    after the optimizer step as the model's ``target_update`` says, ``m``
    the scheduled momentum of the iteration."""
    import torch
    from mmengine.logging import MessageHub

    from mmsiam.models.utils.momentum_target import cosine_momentum
    found = ema_pairs(model)
    if found is None:
        step()
        return 'no EMA'
    inner, (targets, sources) = found
    iteration = int(inner.target.steps)
    before = [t.detach().float().clone() for t in targets]
    online_before = [o.detach().float().clone() for o in sources]
    step()
    hub = MessageHub.get_current_instance()
    logged = hub.get_scalar('train/momentum').current()
    scheduled = cosine_momentum(iteration, hub.get_info('max_iters'),
                                inner.target.momentum,
                                inner.target.end_momentum)
    online = online_before if getattr(
        inner, 'target_update', 'before_forward') == 'before_forward' else [
            o.detach().float() for o in sources]
    error = max((float((t.float() - (b + scheduled * (o - b))).abs().max())
                 for t, b, o in zip(targets, before, online) if t.numel()),
                default=0.)
    moved = max((float((t.float() - b).abs().max())
                 for t, b in zip(targets, before) if t.numel()), default=0.)
    logged_as_scheduled = abs(logged - scheduled) < 1e-9
    ok = logged_as_scheduled and error <= 1e-5 * max(1., moved)
    return (f'{"ok" if ok else "WRONG"}: m={scheduled:.5f}, moved '
            f'{moved:.1e}, error {error:.1e}') + (
                '' if logged_as_scheduled else f', logged m={logged:.5f}')


def peak_flops(device, precision):
    """The device's peak rate for ``precision`` (FLOP/s) and its source."""
    import torch
    from pretrain_step import matmul_peak_gflops, nominal_peak_tflops
    nominal = nominal_peak_tflops(device)
    if nominal is not None and precision != 'fp32':
        return nominal * 1e12, 'data sheet'
    dtype = dict(fp32=torch.float32, fp16=torch.float16,
                 bf16=torch.bfloat16)[precision]
    return matmul_peak_gflops(device, dtype) * 1e9, 'measured matmul'


def check_variant(cfg, strategy, precision, attention, batch, device, args,
                  world_size):
    """One row: ``args.warmup`` steps, one counted for FLOPs (not under
    FSDP), ``args.iters`` timed ones, and one that checks the EMA."""
    from mmsiam.utils import seconds_of
    from pretrain_step import (PeakMemory, build_model, flops_of,
                               optim_wrapper_cfg)
    memory = PeakMemory(device)
    memory.reset()
    with attention_context(attention):
        model = build_model(cfg, device, max_iters=1000)
        model, optim_wrapper = wrap(model, cfg, strategy,
                                    optim_wrapper_cfg(cfg, precision),
                                    device)
        losses = []

        def step():
            losses.append(model.train_step(batch, optim_wrapper)['loss']
                          .detach().float())

        for _ in range(args.warmup):
            step()
        flops = flops_of(step) if strategy != 'fsdp' else None
        times = [seconds_of(step, device) for _ in range(args.iters)]
        # Untimed: the check copies every target and online parameter.
        ema = ema_error(model, step)
    seconds = statistics.median(times)
    finite = all(math.isfinite(float(loss)) for loss in losses)
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    row = dict(step_s=seconds, images_per_s=batch_size(batch) * world_size
               / seconds, peak_mib=memory.peak_mib(),
               losses='finite' if finite else 'NOT FINITE', ema=ema,
               loss=float(losses[-1]))
    if scaler is not None:
        row['losses'] += f', scale {scaler.get_scale():g}'
    if flops is not None:
        peak, source = peak_flops(device, precision)
        row['mfu'] = flops / seconds / peak
        row['mfu_peak'] = source
    return row


def batch_size(batch) -> int:
    return len(batch['data_samples'])


def run_worker(case: dict) -> None:
    """Every variant of one config and strategy in this process (a rank of
    ``torchrun`` for DDP / FSDP); rank 0 prints the rows."""
    import torch
    import torch.distributed as dist
    from mmengine.config import Config

    from mmsiam.runtime import setup_runtime
    from mmsiam.utils import register_all_modules
    from pretrain_step import make_batch
    setup_runtime()
    register_all_modules()
    rank = int(os.environ.get('RANK', 0))
    world_size = int(os.environ.get('WORLD_SIZE', 1))
    if case['device'] == 'cuda':
        device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', 0)))
        torch.cuda.set_device(device)
    else:
        device = torch.device('cpu')
    if world_size > 1:
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo')
    cfg = Config.fromfile(case['config'])
    if case['cfg_options']:
        cfg.merge_from_dict(case['cfg_options'])
    size = case['batch_size'] or cfg.train_dataloader.batch_size
    batch = make_batch(cfg, size, 256, seed=rank)
    args = argparse.Namespace(warmup=case['warmup'], iters=case['iters'])
    attention = case['attention'] if is_vit(cfg) else ['auto']
    rows = []
    for precision in case['precisions']:
        for kernel in attention:
            # On CPU a later variant reuses the heap the first one grew.
            first = not rows or device.type == 'cuda'
            row = dict(config=osp.basename(case['config']),
                       strategy=case['strategy'], precision=precision,
                       attention=kernel if is_vit(cfg) else '-',
                       batch_size=size, processes=world_size)
            try:
                row.update(check_variant(cfg, case['strategy'], precision,
                                         kernel, batch, device, args,
                                         world_size))
                if not first:
                    row['peak_mib'] = None
            except Exception as error:  # a row with the error, not a stop
                row['error'] = f'{type(error).__name__}: {error}'.splitlines(
                )[0][:160]
            finally:
                if device.type == 'cuda':
                    torch.cuda.empty_cache()
            rows.append(row)
    if rank == 0:
        print(ROWS_PREFIX + json.dumps(rows), flush=True)
    if world_size > 1:
        dist.destroy_process_group()


# ----- the launcher: processes per config and strategy, the table -----


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def cfg_options(pairs):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser()
    parser.add_argument('--o', nargs='+', action=DictAction, default={})
    return parser.parse_args(['--o'] + pairs if pairs else []).o


def run_case(args, config, strategy):
    """The rows of ``config`` under ``strategy`` from fresh processes; a
    group that fails as a whole gives rows with its error."""
    case = dict(config=osp.abspath(config), strategy=strategy,
                precisions=args.precisions,
                attention=args.attention if strategy == 'single' else
                ['auto'], batch_size=args.batch_size, iters=args.iters,
                warmup=args.warmup, device=args.device,
                cfg_options=cfg_options(args.cfg_options))
    worker = [osp.abspath(__file__), '--worker', json.dumps(case)]
    if strategy == 'single':
        command = [sys.executable] + worker
    else:
        command = [sys.executable, '-m', 'torch.distributed.run',
                   '--nproc-per-node', str(args.processes), '--master-port',
                   str(free_port())] + worker
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep +
               os.environ.get('PYTHONPATH', ''))
    try:
        out = subprocess.run(command, capture_output=True, text=True,
                             cwd=REPO, env=env, timeout=args.timeout)
        lines = [line for line in out.stdout.splitlines()
                 if line.startswith(ROWS_PREFIX)]
        if lines:
            return json.loads(lines[-1][len(ROWS_PREFIX):])
        tail = (out.stderr.strip().splitlines() or ['no output'])[-1]
        error = f'exit {out.returncode}: {tail[:160]}'
    except subprocess.TimeoutExpired:
        error = f'timed out after {args.timeout} s'
    return [dict(config=osp.basename(config), strategy=strategy,
                 precision=', '.join(args.precisions), attention='-',
                 error=error)]


def official_steps(args, config, rows):
    """The official code's step beside the rows of a ViT-B paper config
    (one process, the measured kernel), with ``--official-checkout``."""
    from benchmark_vs_official import CONFIGS, run_round
    methods = [m for m, path in CONFIGS.items()
               if osp.abspath(config) == path and m in args.checkouts]
    if not methods:
        return
    bench = argparse.Namespace(
        batch_size=None, iters=args.iters, warmup=args.warmup,
        cfg_options=args.cfg_options, compile=False,
        official_keeps_freed_memory=False,
        official_checkout=args.official_checkout)
    for row in rows:
        if row['strategy'] != 'single' or row['attention'] != 'auto' or (
                'step_s' not in row):
            continue
        bench.batch_size = row['batch_size']
        try:
            official = run_round(bench, methods[0], 'fp32' if (
                row['precision'] == 'fp32') else 'bf16', 'official-code')
            row['official_step_s'] = official['step_s']
        except RuntimeError as error:
            row['official_error'] = str(error).splitlines()[0][:160]


def table(rows) -> str:
    """The rows as a Markdown table."""
    lines = ['| config | strategy | precision | attention | batch | step | '
             'images/s | MFU | peak memory | losses | EMA | official step |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    for row in rows:
        head = (f'| {row["config"]} | {row["strategy"]} | '
                f'{row["precision"]} | {row["attention"]} | ')
        if 'error' in row:
            lines.append(head + f'- | failed: {row["error"]} |'
                         + ' |' * 6)
            continue
        strategy = row['strategy'] if row['strategy'] == 'single' else (
            f'{row["strategy"]} x{row["processes"]}')
        head = head.replace(f'| {row["strategy"]} |', f'| {strategy} |', 1)
        mfu = (f'{100 * row["mfu"]:.1f} % ({row["mfu_peak"]})'
               if 'mfu' in row else '-')
        peak = ('-' if row['peak_mib'] is None else
                f'{row["peak_mib"]:.0f} MiB')
        official = '-'
        if 'official_step_s' in row:
            official = (f'{row["official_step_s"]:.3f} s (mmsiam '
                        f'x{row["official_step_s"] / row["step_s"]:.2f})')
        elif 'official_error' in row:
            official = f'failed: {row["official_error"]}'
        lines.append(
            head + f'{row["batch_size"]} | {row["step_s"]:.3f} s | '
            f'{row["images_per_s"]:.1f} | {mfu} | {peak} | {row["losses"]} '
            f'| {row["ema"]} | {official} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return run_worker(json.loads(args.worker))
    from benchmark_vs_official import check_checkouts

    from mmsiam.utils import machine_name
    args.checkouts = check_checkouts(args.checkouts)
    print(f'machine: {machine_name()}; {args.processes} processes for DDP / '
          f'FSDP on {args.device}', file=sys.stderr)
    rows = []
    for config in args.configs:
        for strategy in args.strategies:
            found = run_case(args, config, strategy)
            official_steps(args, config, found)
            rows += found
            print(table(found).split('\n', 2)[2], file=sys.stderr,
                  flush=True)
    print(table(rows))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(rows, f, indent=1)
    failed = [row for row in rows if 'error' in row or row.get(
        'losses', '').startswith('NOT') or row.get('ema', '').startswith(
            'WRONG')]
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
