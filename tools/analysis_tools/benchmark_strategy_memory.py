#!/usr/bin/env python
"""Peak memory per process of one distributed training step, DDP against
FSDP (``tools/train.py --strategy``).

For each strategy the config trains one optimizer step through
``tools/dist_train.sh`` with ``--nproc`` processes (CPU processes over gloo
on a machine without CUDA), at ``--batch-size`` images per process, on
random images written to a temporary folder (read by
``UnlabeledImageFolder`` through the config's own pipeline), without
validation or checkpoints. Reported: the largest peak resident set of any
process of the launch (``ru_maxrss`` of its children: model construction,
wrapping, the step) and the step's wall time as logged. On CUDA the
resident set is host memory; GPU memory is in the training log.

Example (docs/distributed.md)::

    python tools/analysis_tools/benchmark_strategy_memory.py \\
        configs/siameseim/siameseim_vit-large-p16_32xb128-fsdp-amp-coslr-1600e_in1k.py
"""
import argparse
import os
import os.path as osp
import re
import resource
import subprocess
import sys
import tempfile

import numpy as np
from mmengine.config import Config
from PIL import Image

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIST_TRAIN = osp.join(REPO, 'tools', 'dist_train.sh')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Peak memory per process of one DDP and one FSDP step')
    parser.add_argument('config', help='pretraining config')
    parser.add_argument('--nproc', type=int, default=2)
    parser.add_argument('--batch-size', type=int, default=1,
                        help='images per process')
    parser.add_argument('--strategies', nargs='+', default=['ddp', 'fsdp'],
                        choices=['ddp', 'fsdp'])
    parser.add_argument('--image-size', type=int, default=256,
                        help='side of the random images')
    parser.add_argument('--timeout', type=int, default=1800)
    # Internal: one launch, reporting its children's peak (one process per
    # strategy, so that the peaks do not mix).
    parser.add_argument('--launch', nargs=argparse.REMAINDER,
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def write_images(folder: str, count: int, size: int) -> None:
    """``count`` random RGB images of ``size`` x ``size`` pixels."""
    rng = np.random.default_rng(0)
    for i in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(osp.join(folder, f'{i:03d}.png'))


def one_step_config(config: str, images: str, batch_size: int,
                    out: str) -> None:
    """``config`` trained for one step on ``images`` (one batch per
    process), without validation or checkpoints, written to ``out``."""
    cfg = Config.fromfile(config)
    inner = cfg.train_dataloader.dataset.dataset
    cfg.train_dataloader.dataset.dataset = dict(
        type='UnlabeledImageFolder',
        data_root=images,
        pipeline=inner.pipeline)
    cfg.train_dataloader.update(
        batch_size=batch_size, num_workers=0, persistent_workers=False)
    cfg.train_cfg.max_epochs = 1
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.pop('val_at_start', None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.dump(out)


def launch(args) -> None:
    """Run the training command in ``args.launch``; print the children's
    peak resident set and the logged step time (its output on failure)."""
    proc = subprocess.run(args.launch, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          timeout=args.timeout)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode:
        sys.exit(f'{" ".join(args.launch)} failed:\n{proc.stdout[-4000:]}')
    step = re.findall(r'Epoch\(train\) \[1\]\[1/1\].*?\btime: ([0-9.]+)',
                      proc.stdout)
    print(f'peak_mib={peak_kib / 1024:.0f} step_s={step[0] if step else "?"}')


def measure(config: str, strategy: str, nproc: int, work_dir: str,
            timeout: int) -> dict:
    """Peak resident MiB of the largest process and the step time of one
    launch."""
    command = [
        DIST_TRAIN, config, str(nproc), '--strategy', strategy,
        '--work-dir', osp.join(work_dir, strategy)
    ]
    env = dict(os.environ, PYTHON=sys.executable)
    out = subprocess.run(
        [sys.executable, osp.abspath(__file__), config, '--timeout',
         str(timeout), '--launch'] + command,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    if out.returncode:
        sys.exit(out.stdout[-4000:])
    values = dict(re.findall(r'(\w+)=(\S+)', out.stdout.splitlines()[-1]))
    return dict(peak_mib=float(values['peak_mib']), step_s=values['step_s'])


def main(argv=None):
    args = parse_args(argv)
    if args.launch:
        launch(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        images = osp.join(tmp, 'images')
        os.makedirs(images)
        write_images(images, args.nproc * args.batch_size, args.image_size)
        config = osp.join(tmp, 'one_step.py')
        one_step_config(args.config, images, args.batch_size, config)
        results = {
            strategy: measure(config, strategy, args.nproc, tmp,
                              args.timeout)
            for strategy in args.strategies
        }
    print(f'{osp.basename(args.config)}: one step, {args.nproc} processes, '
          f'batch {args.batch_size} per process')
    print('| strategy | peak resident memory per process (MiB) | step (s) |')
    print('|---|---|---|')
    for strategy, result in results.items():
        print(f'| {strategy} | {result["peak_mib"]:.0f} | '
              f'{result["step_s"]} |')
    if {'ddp', 'fsdp'} <= results.keys():
        ratio = results['fsdp']['peak_mib'] / results['ddp']['peak_mib']
        print(f'FSDP / DDP: x{ratio:.2f}')


if __name__ == '__main__':
    main()
