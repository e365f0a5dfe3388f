#!/usr/bin/env python
"""Measure one full pretraining step of a config: data preprocessing,
forward, backward, optimizer step and the target (EMA) update.

A batch is made by running the config's own training pipeline on random
images (no dataset needed), so the step sees exactly the views, masks and
fields the method is trained with. Prints images/s, time per step, the
peak memory of the training (model, optimizer state, activations) and the
achieved GFLOP/s (FLOPs of one step counted with
``torch.utils.flop_counter``) as a share of this machine's matmul peak,
which the tool measures (square matmuls in the step's dtype); on CUDA also
the MFU against the device's data-sheet peak. On CPU, malloc keeps freed
memory between steps as in ``tools/train.py``
(``mmsiam.utils.keep_freed_memory``). ``--compile`` compiles the model's
parts (backbone, neck, head, EMA target) as ``tools/train.py --compile``
does (the compile time is reported apart). With ``--profile
N`` it also profiles N more steps with ``torch.profiler`` and prints the
ops with the most self time as a Markdown table (``docs/performance.md``
keeps them).

Example::

    python tools/analysis_tools/benchmark_pretrain.py \\
        configs/siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py \\
        --batch-size 8 --iters 5 --amp --profile 2
"""
import argparse
import os.path as osp
import sys
import time

import torch
from mmengine.config import Config, DictAction
from torch.profiler import ProfilerActivity, profile

from mmsiam.models.utils import compile_model
from mmsiam.runtime import setup_runtime
from mmsiam.utils import keep_freed_memory, register_all_modules

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from pretrain_step import (PeakMemory, build_training, flops_of,  # noqa
                           make_batch, matmul_peak_gflops,
                           nominal_peak_tflops)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark a full pretraining step')
    parser.add_argument('config', help='pretraining config')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--iters', type=int, default=5,
                        help='timed steps (after --warmup steps)')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (bf16 autocast on CPU)')
    parser.add_argument('--compile', action='store_true',
                        help='torch.compile the model (as tools/train.py '
                        '--compile)')
    parser.add_argument('--image-size', type=int, default=256,
                        help='side of the random source images')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--profile', type=int, default=0, metavar='N',
                        help='also profile N steps and print the top ops')
    parser.add_argument('--profile-rows', type=int, default=15,
                        help='ops in the profile table')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(argv)


def top_ops_table(events, steps: int, rows: int, device_type: str) -> str:
    """The ``rows`` ops of a profile (``key_averages()``) with the most self
    time (device time on CUDA), per step, as a Markdown table."""
    attr = ('self_device_time_total' if device_type == 'cuda' else
            'self_cpu_time_total')
    total = sum(getattr(event, attr) for event in events)
    lines = ['| op | self ms / step | share of step | calls / step |',
             '|---|---|---|---|']
    for event in sorted(events, key=lambda e: -getattr(e, attr))[:rows]:
        time_us = getattr(event, attr)
        lines.append(f'| `{event.key}` | {time_us / 1e3 / steps:.1f} | '
                     f'{100 * time_us / total:.1f} % | '
                     f'{event.count / steps:g} |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.compile:
        cfg.compile = True
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    # As tools/train.py does on CPU runs.
    kept = device.type == 'cpu' and keep_freed_memory()
    memory = PeakMemory(device)
    memory.reset()
    model, optim_wrapper = build_training(
        cfg, args.amp, device, args.warmup + args.iters + args.profile + 2)
    if cfg.get('compile'):
        compile_seconds = time.perf_counter()
        compile_model(model, cfg.compile)
    batch = make_batch(cfg, args.batch_size, args.image_size)

    def step():
        # The EMA target steps in train_step, wherever its method puts it.
        model.train_step(batch, optim_wrapper)
        if device.type == 'cuda':
            torch.cuda.synchronize()

    if cfg.get('compile'):
        step()  # compiles
        compile_seconds = time.perf_counter() - compile_seconds
    for _ in range(args.warmup):
        step()
    flops = flops_of(step)
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    seconds = (time.perf_counter() - start) / args.iters
    peak_mib = memory.peak_mib()
    dtype = (torch.float32 if not args.amp else
             torch.bfloat16 if device.type == 'cpu' else torch.float16)
    peak_gflops = matmul_peak_gflops(device, dtype)
    print(f'config: {args.config}')
    precision = ('fp32' if not args.amp else
                 'bf16 autocast' if device.type == 'cpu' else 'fp16 autocast')
    print(f'device: {device.type}, threads: {torch.get_num_threads()}, '
          f'precision: {precision}, compiled: {bool(cfg.get("compile"))}, '
          f'malloc keeps freed memory: {kept}')
    print(f'batch: {args.batch_size}, timed steps: {args.iters}')
    if cfg.get('compile'):
        print(f'compile (first step): {compile_seconds:.1f} s')
    print(f'step time: {seconds:.3f} s')
    print(f'throughput: {args.batch_size / seconds:.2f} images/s')
    print(f'peak memory: {peak_mib:.0f} MiB ({memory.kind})')
    achieved = flops / 1e9 / seconds
    print(f'FLOPs per step: {flops / 1e9:.1f} GFLOP, achieved '
          f'{achieved:.1f} GFLOP/s')
    print(f'matmul peak ({str(dtype)[6:]}, measured): {peak_gflops:.0f} '
          f'GFLOP/s; the step reaches {100 * achieved / peak_gflops:.1f} %')
    nominal = nominal_peak_tflops(device)
    if nominal:
        print(f'MFU: {100 * achieved / (nominal * 1e3):.1f} % of '
              f'{torch.cuda.get_device_name(device)} ({nominal:g} TFLOP/s '
              'dense bf16/fp16, data sheet)')
    if args.profile:
        activities = [ProfilerActivity.CPU] + (
            [ProfilerActivity.CUDA] if device.type == 'cuda' else [])
        with profile(activities=activities) as prof:
            for _ in range(args.profile):
                step()
        print(f'top ops by self time over {args.profile} profiled steps:')
        print(top_ops_table(prof.key_averages(), args.profile,
                            args.profile_rows, device.type))


if __name__ == '__main__':
    main()
