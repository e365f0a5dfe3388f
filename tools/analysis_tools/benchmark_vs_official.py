#!/usr/bin/env python
"""Time mmsiam's training step against the official code's, side by side.

For SiameseIM and ConMIM, one paired round runs each implementation in its
own process on the same batch (the config's training pipeline on random
images, the same views and masks): mmsiam's model, optimizer wrapper and
EMA from the paper config, and the official step rebuilt from the spec
(``official_steps``: timm blocks with explicit attention, an EMA that loops
over parameters, torch's default AdamW, the official loss forms). Rounds
alternate the order; the table gives the medians of the step time and of
the training's peak memory (CUDA: allocated; CPU: resident memory above
the imported libraries) and the ratios official / mmsiam. On CPU the
mmsiam side keeps freed memory in malloc between steps, as
``tools/train.py`` does (``mmsiam.utils.keep_freed_memory``);
``--official-keeps-freed-memory`` gives the official side the same.

With ``--official-checkout siameseim=PATH conmim=PATH`` (git checkouts of
the official repositories) each round also runs the official code itself
(``official_checkout.py``: imported from the checkout, with shims for this
stack), and the table has a row per official side.

Example (the tables of docs/performance.md)::

    python tools/analysis_tools/benchmark_vs_official.py \\
        --methods siameseim conmim --precisions fp32 bf16 \\
        --batch-size 4 --iters 3 --rounds 3 \\
        --official-checkout siameseim=../Siamese-Image-Modeling \\
        conmim=../ConMIM
"""
import argparse
import json
import os.path as osp
import statistics
import subprocess
import sys
import time

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
REPO = osp.dirname(osp.dirname(HERE))
CONFIGS = dict(
    siameseim=osp.join(
        REPO, 'configs', 'siameseim',
        'siameseim_vit-base-p16_32xb128-amp-coslr-1600e_in1k.py'),
    conmim=osp.join(REPO, 'configs', 'conmim',
                    'conmim_vit-base-p16_32xb64-amp-coslr-800e_in1k.py'))
# The sides of a round: the official step rebuilt from the spec, mmsiam,
# and the official code from a checkout (--official-checkout).
SIDES = ('official', 'mmsiam', 'official-code')
# The official optimizer settings of the paper configs (spec section 6).
OFFICIAL_OPTIM = dict(
    siameseim=dict(lr=1e-3, betas=(0.9, 0.95), weight_decay=0.05,
                   clip_grad=1.0),
    conmim=dict(lr=7.5e-4, betas=(0.9, 0.98), weight_decay=0.05,
                clip_grad=1.0, skip_decay=('student.cls_token', )))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='mmsiam vs the official training step, side by side')
    parser.add_argument('--methods', nargs='+', choices=sorted(CONFIGS),
                        default=sorted(CONFIGS))
    parser.add_argument('--precisions', nargs='+', choices=['fp32', 'bf16'],
                        default=['fp32', 'bf16'],
                        help='bf16: autocast (fp16 on CUDA)')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--iters', type=int, default=3,
                        help='timed steps per process')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--rounds', type=int, default=3,
                        help='paired rounds (one process per side each)')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='passed to the mmsiam side, e.g. '
                        'model.backbone.with_cp=True')
    parser.add_argument('--compile', action='store_true',
                        help='compile the mmsiam side (tools/train.py '
                        '--compile)')
    parser.add_argument('--official-keeps-freed-memory', action='store_true',
                        help='run the official sides with the CPU malloc '
                        'setting of tools/train.py too (the mmsiam side '
                        'always has it)')
    add_checkout_argument(parser, 'the official code\'s step')
    # One side in this process (what the rounds run).
    parser.add_argument('--run', choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument('--method', help=argparse.SUPPRESS)
    parser.add_argument('--precision', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.checkouts = parse_checkouts(parser, args.official_checkout)
    return args


def add_checkout_argument(parser, what: str) -> None:
    """``--official-checkout METHOD=PATH ...``: also time ``what``, imported
    from git checkouts of the official codes (:func:`parse_checkouts`)."""
    parser.add_argument('--official-checkout', nargs='+', default=[],
                        metavar='METHOD=PATH',
                        help=f'also time {what}, imported from these git '
                        'checkouts (siameseim: OpenGVLab/Siamese-Image-'
                        'Modeling, conmim: TencentARC/ConMIM)')


def parse_checkouts(parser, pairs):
    """``{method: path}`` of ``--official-checkout METHOD=PATH`` pairs;
    the paths are checked when the tool runs (:func:`check_checkouts`)."""
    checkouts = {}
    for pair in pairs:
        method, sep, path = pair.partition('=')
        if not sep or method not in CONFIGS:
            parser.error(f'--official-checkout {pair}: expected METHOD=PATH '
                         f'with METHOD one of {sorted(CONFIGS)}')
        checkouts[method] = path
    return checkouts


def check_checkouts(checkouts):
    """The checkouts as absolute paths, each checked to hold its official
    code; exits with an error that names a wrong one."""
    from official_checkout import check_checkout
    try:
        return {method: check_checkout(method, path)
                for method, path in checkouts.items()}
    except FileNotFoundError as error:
        sys.exit(f'error: {error}')


def checkout_commit(path: str) -> str:
    """The short commit of a git checkout, or 'checkout' without git."""
    out = subprocess.run(['git', '-C', path, 'rev-parse', '--short', 'HEAD'],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 else 'checkout'


def official_batch(method, inputs, data_samples):
    """The preprocessed views and fields as the official step takes them."""
    import torch
    mask = torch.stack([s.mask for s in data_samples]).flatten(1).bool()
    if method == 'siameseim':
        geometry = torch.stack(
            [s.relative_geometry for s in data_samples]).float()
        return dict(view1=inputs[0], view2=inputs[1], mask=mask,
                    relative_geometry=geometry)
    return dict(student_view=inputs[0], teacher_view=inputs[1], mask=mask)


def build_official(method, model_cfg, device, amp):
    """The official model of ``model_cfg``'s sizes and its step."""
    from official_steps import (ConMIMOfficial, OfficialStep,
                                SiameseIMOfficial)
    cls = SiameseIMOfficial if method == 'siameseim' else ConMIMOfficial
    model = cls.from_config(model_cfg).to(device).train()
    return OfficialStep(model, amp=amp, **OFFICIAL_OPTIM[method])


def preprocessed(cfg, batch, device):
    """The batch through the config's data preprocessor."""
    from mmengine import DefaultScope

    from mmsiam.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmsiam'):
        preprocessor = MODELS.build(cfg.model.data_preprocessor).to(device)
    return preprocessor(batch, training=True)


def run_one_side(args):
    """Time one implementation; prints one JSON line."""
    import torch
    from mmengine.config import Config, DictAction

    from mmsiam.runtime import setup_runtime
    from mmsiam.utils import keep_freed_memory, register_all_modules
    from pretrain_step import PeakMemory, build_training, make_batch
    setup_runtime()
    register_all_modules()
    if not torch.cuda.is_available() and (
            args.run == 'mmsiam' or args.official_keeps_freed_memory):
        keep_freed_memory()
    cfg = Config.fromfile(CONFIGS[args.method])
    if args.cfg_options:
        options = argparse.ArgumentParser()
        options.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(
            options.parse_args(['--o'] + args.cfg_options).o)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    amp = args.precision == 'bf16'
    steps = args.warmup + args.iters
    batch = make_batch(cfg, args.batch_size, 256)
    memory = PeakMemory(device)
    if args.run == 'mmsiam':
        memory.reset()
        model, optim_wrapper = build_training(cfg, amp, device, steps + 1)
        if args.compile:
            from mmsiam.models.utils import compile_model
            compile_model(model)

        def step():
            return model.train_step(batch, optim_wrapper)['loss']
    elif args.run == 'official-code':
        from official_checkout import official_code_step
        memory.reset()
        step = official_code_step(args.method, args.checkouts[args.method],
                                  amp, args.batch_size)
    else:
        data = preprocessed(cfg, batch, device)
        inputs = official_batch(args.method, data['inputs'],
                                data['data_samples'])
        memory.reset()
        official = build_official(args.method, cfg.model, device, amp)
        # The first EMA step of the schedules: keep 0.995 / 0.996.
        keep = 1 - cfg.model.base_momentum

        def step():
            return official(inputs, keep)
    times = []
    for _ in range(steps):
        if device.type == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = step()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    print(json.dumps(dict(
        step_s=statistics.median(times[args.warmup:]),
        steps_s=[round(t, 3) for t in times],
        peak_mib=memory.peak_mib(), loss=float(loss))))


def run_round(args, method, precision, side):
    command = [sys.executable, osp.abspath(__file__), '--run', side,
               '--method', method, '--precision', precision,
               '--batch-size', str(args.batch_size), '--iters',
               str(args.iters), '--warmup', str(args.warmup)]
    if args.cfg_options:
        command += ['--cfg-options'] + args.cfg_options
    if args.compile:
        command.append('--compile')
    if args.official_keeps_freed_memory:
        command.append('--official-keeps-freed-memory')
    if args.official_checkout:
        command += ['--official-checkout'] + args.official_checkout
    out = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if out.returncode:
        raise RuntimeError(f'{side} {method} {precision} failed:\n'
                           f'{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(args, medians) -> str:
    """The side-by-side table: a row per method, precision and official
    side, from ``medians[(method, precision)][side] = (step_s, peak_mib)``."""
    rows = ['| method | precision | official side | official step | '
            'mmsiam step | speed-up | official peak | mmsiam peak | '
            'memory ratio |', '|---|---|---|---|---|---|---|---|---|']
    for (method, precision), sides in medians.items():
        step, peak = sides['mmsiam']
        for side in ('official', 'official-code'):
            if side not in sides:
                continue
            name = 'rebuilt from the spec' if side == 'official' else (
                f'official code `{checkout_commit(args.checkouts[method])}`')
            official_step, official_peak = sides[side]
            rows.append(
                f'| {method} | {precision} | {name} | {official_step:.2f} s '
                f'| {step:.2f} s | x{official_step / step:.2f} | '
                f'{official_peak:.0f} MiB | {peak:.0f} MiB | '
                f'x{peak / official_peak:.2f} |')
    return '\n'.join(rows)


def main(argv=None):
    args = parse_args(argv)
    args.checkouts = check_checkouts(args.checkouts)
    if args.run:
        return run_one_side(args)
    from mmsiam.utils import cpu_model
    import torch
    print(f'machine: {cpu_model()}, torch {torch.__version__}'
          + (f', {torch.cuda.get_device_name()}'
             if torch.cuda.is_available() else ''), file=sys.stderr)
    medians = {}
    for method in args.methods:
        sides = ['official', 'mmsiam'] + (
            ['official-code'] if method in args.checkouts else [])
        for precision in args.precisions:
            results = {side: [] for side in sides}
            for k in range(args.rounds):
                # Each round starts with another side.
                for side in sides[k % len(sides):] + sides[:k % len(sides)]:
                    results[side].append(
                        run_round(args, method, precision, side))
            medians[method, precision] = {
                side: (statistics.median(r['step_s'] for r in runs),
                       statistics.median(r['peak_mib'] for r in runs))
                for side, runs in results.items()}
            rows = table(args, {(method, precision):
                                medians[method, precision]})
            print('\n'.join(rows.splitlines()[2:]), file=sys.stderr,
                  flush=True)
    print(table(args, medians))


if __name__ == '__main__':
    sys.exit(main())
