#!/usr/bin/env python
"""Measure one full pretraining step of a config: data preprocessing,
forward, backward, optimizer step and the target (EMA) update.

A batch is made by running the config's own training pipeline on random
images (no dataset needed), so the step sees exactly the views, masks and
fields the method is trained with. Prints images/s, time per step, peak
memory and the achieved GFLOP/s (FLOPs of one step counted with
``torch.utils.flop_counter``). With ``--profile N`` it also profiles N more
steps with ``torch.profiler`` and prints the ops with the most self time
as a Markdown table (``docs/performance.md`` keeps them).

Example::

    python tools/analysis_tools/benchmark_pretrain.py \\
        configs/siameseim/siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py \\
        --batch-size 8 --iters 5 --amp --profile 2
"""
import argparse
import resource
import time

import numpy as np
import torch
from mmengine import DefaultScope
from mmengine.config import Config, DictAction
from mmengine.dataset import default_collate
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from mmsiam.datasets import unwrap_seeded
from mmsiam.registry import MODELS, TRANSFORMS
from mmsiam.runtime import setup_runtime
from mmsiam.utils import register_all_modules


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


def make_batch(cfg, batch_size, image_size, seed=0):
    """Pack ``batch_size`` random images with the config's pipeline."""
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    dataset = unwrap_seeded(cfg.train_dataloader.dataset)
    pipeline = [
        TRANSFORMS.build(t) for t in dataset.pipeline
        if t['type'] not in ('LoadImageFromFile', 'LoadImageOrSkip')
    ]
    samples = []
    for _ in range(batch_size):
        results = dict(
            img=rng.integers(0, 256, (image_size, image_size, 3),
                             dtype=np.uint8))
        for transform in pipeline:
            results = transform(results)
        samples.append(results)
    return default_collate(samples)


def peak_memory_mb(device):
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated() / 2**20
    # ru_maxrss is in KiB on Linux: the process's peak resident memory.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    wrapper_cfg = dict(cfg.optim_wrapper)
    if args.amp:
        wrapper_cfg['type'] = 'AnyDeviceAmpOptimWrapper'
    else:
        wrapper_cfg['type'] = 'OptimWrapper'
        wrapper_cfg.pop('loss_scale', None)
    MessageHub.get_current_instance().update_info(
        'max_iters', args.warmup + args.iters + 1)
    with DefaultScope.overwrite_default_scope('mmsiam'):
        model = MODELS.build(cfg.model).to(device)
        model.init_weights()
        model.train()
        optim_wrapper = build_optim_wrapper(model, wrapper_cfg)
    batch = make_batch(cfg, args.batch_size, args.image_size)

    def step():
        # The EMA target steps in train_step, wherever its method puts it.
        model.train_step(batch, optim_wrapper)
        if device.type == 'cuda':
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    start = time.perf_counter()
    for _ in range(args.iters):
        step()
    seconds = (time.perf_counter() - start) / args.iters
    print(f'config: {args.config}')
    precision = ('fp32' if not args.amp else
                 'bf16 autocast' if device.type == 'cpu' else 'fp16 autocast')
    print(f'device: {device.type}, threads: {torch.get_num_threads()}, '
          f'precision: {precision}')
    print(f'batch: {args.batch_size}, timed steps: {args.iters}')
    print(f'step time: {seconds:.3f} s')
    print(f'throughput: {args.batch_size / seconds:.2f} images/s')
    print(f'peak memory: {peak_memory_mb(device):.0f} MiB '
          f'({"allocated" if device.type == "cuda" else "process RSS"})')
    print(f'FLOPs per step: {flops / 1e9:.1f} GFLOP, achieved '
          f'{flops / 1e9 / seconds:.1f} GFLOP/s')
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
