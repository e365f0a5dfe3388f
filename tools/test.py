#!/usr/bin/env python
"""Evaluate a checkpoint with a config's test dataloader and evaluator."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from torch.distributed.elastic.multiprocessing.errors import record

from mmsiam.config_checks import check_config
from mmsiam.runtime import setup_runtime
from mmsiam.utils import (default_work_dir, exit_distributed,
                          prepare_distributed_env, register_all_modules)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and metrics (default: '
        './work_dirs/<config name>)')
    parser.add_argument(
        '--out', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--amp', action='store_true', help='test with mixed precision')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_args(cfg, args):
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(
            f'checkpoint {args.checkpoint}: no such file')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = default_work_dir(args.config)
    cfg.load_from = args.checkpoint
    cfg.launcher = args.launcher
    if args.amp:
        cfg.test_cfg = cfg.get('test_cfg') or dict(type='TestLoop')
        cfg.test_cfg.fp16 = True
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out {args.out}: expected a .pkl file name')
    return cfg


# torchrun's failure summary ("Root Cause") shows a worker's error.
@record
def main(argv=None):
    args = parse_args(argv)
    setup_runtime()
    register_all_modules(init_default_scope=False)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg = merge_args(cfg, args)
    check_config(cfg, phase='test')
    prepare_distributed_env(cfg, args.launcher)

    from mmengine.evaluator import DumpResults

    from mmsiam.engine.runner import build_runner
    from mmsiam.models.layers import set_attention_kernel
    attention_kernel = set_attention_kernel(cfg)
    runner = build_runner(cfg)
    runner.logger.info(attention_kernel)
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    if runner.rank == 0:
        print(f'Metrics: {metrics}')
    exit_distributed()


if __name__ == '__main__':
    sys.exit(main())
