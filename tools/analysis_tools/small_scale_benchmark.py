#!/usr/bin/env python
"""The small CPU benchmark: does each method learn, judged by its own
paper's protocol? Every ``_demo`` config is trained on the built-in data,
once per seed, then its encoder and its random initialisation are
evaluated the same way.

For each config (default: every ``configs/*/*_demo.py`` and the methods'
ablations in ``configs/*/ablations/``) and seed (``--seeds``, default
0 1 2):

1. the config, its schedule stretched by ``--epoch-factor``
   (:func:`stretch_schedule`: epochs, scheduler milestones and the kNN
   interval; the EMA momentum follows the iteration count by itself) and
   its seed set, is saved to ``WORK_DIR/<config>/seed<S>/`` and trained
   there by ``tools/train.py``: the kNN monitor gives kNN top-1 before
   training, at the end and on raw pixels;
2. its encoder is exported by ``tools/model_converters/extract_backbone.py``
   (the branch the method's paper evaluates);
3. the method's demo-scale evaluation config (:data:`EVALUATIONS`: few-label
   fine-tuning for the masked-image-modeling methods, MULAN's linear
   protocol for MULAN; 100 labelled digits) is trained twice with the same
   seed and budget by ``tools/train.py``: from the exported encoder and from
   scratch. Its last val top-1 is the number reported.

The rows (one per method and seed: minutes, kNN, the two evaluation
accuracies, the commit, command and CPU) go to ``WORK_DIR/results.json``; a
Markdown table of the mean +- std over the seeds to stdout and, with
``--doc``, between the ``<!-- SECTION:start -->`` and
``<!-- SECTION:end -->`` lines of that file (``--section``, default
``small-scale-benchmark``), next to a PNG of the kNN curves (``--png``).
Rows of (method, seed) pairs that an earlier run in the same work dir
trained and this one does not are kept, each with its own commit, so that
the demos can be benchmarked one at a time.
``--skip-evaluation`` trains and tabulates the kNN monitor only.

Examples::

    # the "does it learn?" table of docs/small_scale.md and the README
    python tools/analysis_tools/small_scale_benchmark.py \\
        --work-dir work_dirs/small_scale --doc docs/small_scale.md \\
        --png docs/images/small_scale_knn_seeds.png
    # the demos trained 6 times longer, kNN only, one seed
    python tools/analysis_tools/small_scale_benchmark.py --epoch-factor 6 \\
        --seeds 0 --skip-evaluation --work-dir work_dirs/small_scale_x6 \\
        --doc docs/small_scale.md --section small-scale-benchmark-x6 \\
        --png docs/images/small_scale_knn.png
"""
import argparse
import glob
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
from plot_curves import (RAW_PIXELS_SUFFIX, draw_raw_pixel_reference,  # noqa
                         read_scalars)

DEMO_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*',
                                         '*_demo.py')))
# A method's own ablations of a demo (MULAN: a shared predictor, global
# views only), benchmarked beside it.
ABLATION_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '*', 'ablations', '*_demo.py')))
DEFAULT_CONFIGS = DEMO_CONFIGS + ABLATION_CONFIGS
CLASSIFICATION = osp.join(REPO, 'configs', 'benchmarks', 'classification')
# Each method's demo-scale evaluation, its paper's protocol on 100 labels.
EVALUATIONS = {
    'siameseim': ('few-label fine-tuning', osp.join(
        CLASSIFICATION,
        'siameseim_vit-tiny-p8_1xb25-coslr-100e_mnist5k-100labels_demo.py')),
    'conmim': ('few-label fine-tuning', osp.join(
        CLASSIFICATION,
        'conmim_vit-tiny-p8_1xb25-coslr-100e_mnist5k-100labels_demo.py')),
    'mulan': ('linear protocol', osp.join(
        CLASSIFICATION, 'mulan_resnet18-w16_1xb25-linear-coslr-100e_'
        'mnist5k-100labels_demo.py')),
}
KEY = 'knn/top1'
ACCURACY = 'accuracy/top1'
SECTION = 'small-scale-benchmark'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train the _demo configs and judge each by kNN and by '
        "its paper's protocol on 100 labels, against random init")
    parser.add_argument('configs', nargs='*', default=DEFAULT_CONFIGS,
                        help='configs to train (default: every '
                        'configs/*/*_demo.py and configs/*/ablations/'
                        '*_demo.py)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2],
                        help='one run per seed (default 0 1 2)')
    parser.add_argument('--epoch-factor', type=float, default=1.,
                        help='multiply each schedule by this (default 1: '
                        'the demos as shipped)')
    parser.add_argument('--evaluations', type=int, default=8,
                        help='kNN evaluations after the one before training '
                        '(default 8)')
    parser.add_argument('--skip-evaluation', action='store_true',
                        help='kNN only: no export, no few-label runs')
    parser.add_argument('--work-dir', default='work_dirs/small_scale',
                        help='one sub-folder per config and seed, and '
                        'results.json')
    parser.add_argument('--doc', help='Markdown file whose benchmark '
                        'section receives the table')
    parser.add_argument('--section', default=SECTION,
                        help='the section of --doc: the lines <!-- '
                        'SECTION:start --> and <!-- SECTION:end --> '
                        f'(default {SECTION})')
    parser.add_argument('--png', help='PNG of the kNN curves (default: '
                        'WORK_DIR/knn_curves.png)')
    return parser.parse_args(argv)


def stretch_schedule(cfg, factor: float, evaluations: int) -> None:
    """Multiply an epoch-based schedule by ``factor`` in place.

    ``train_cfg.max_epochs`` and every by-epoch scheduler's ``begin``,
    ``end`` and ``T_max`` are scaled (rounded to whole epochs);
    ``train_cfg.val_interval`` is the divisor of the epochs that gives the
    number of kNN evaluations closest to ``evaluations``.
    """
    if cfg.train_cfg.get('type', 'EpochBasedTrainLoop') != \
            'EpochBasedTrainLoop' or 'max_epochs' not in cfg.train_cfg:
        raise ValueError('stretch_schedule needs an epoch-based train_cfg '
                         f'with max_epochs; got {cfg.train_cfg}')
    old_epochs = cfg.train_cfg.max_epochs
    epochs = max(1, round(old_epochs * factor))
    cfg.train_cfg.max_epochs = epochs
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for scheduler in schedulers:
        if not scheduler.get('by_epoch', True):
            raise ValueError(f'{scheduler["type"]}: only by-epoch '
                             'schedulers can be stretched')
        for key in ('begin', 'end', 'T_max'):
            if key in scheduler:
                value = min(scheduler[key], old_epochs)
                scheduler[key] = round(value * epochs / old_epochs)
        if scheduler.get('end', epochs) <= scheduler.get('begin', 0):
            raise ValueError(
                f'--epoch-factor {factor:g}: {scheduler["type"]} would be '
                f'left no epoch ({old_epochs} -> {epochs} epochs); use a '
                'larger factor')
    # A divisor of the epochs (the last evaluation at the last epoch).
    cfg.train_cfg.val_interval = min(
        (d for d in range(1, epochs + 1) if epochs % d == 0),
        key=lambda d: abs(epochs / d - evaluations))


def method_name(config: str) -> str:
    """'siameseim', 'mulan-byol', 'mulan-byol-shared-predictor'... from
    the config file name."""
    return osp.basename(config).split('_')[0]


def git_commit(repo: str = REPO, outputs=()) -> str:
    """The checked-out commit of ``repo``, with '+changes' when a tracked
    file other than ``outputs`` (this tool's own doc and PNG, which an
    earlier run wrote) differs from it."""
    def git(*args):
        return subprocess.run(['git', *args], cwd=repo, capture_output=True,
                              text=True).stdout.strip()
    commit = git('rev-parse', '--short', 'HEAD') or 'unknown'
    ours = {osp.relpath(osp.abspath(path), repo) for path in outputs if path}
    changed = set(git('diff', '--name-only', 'HEAD').splitlines()) - ours
    return commit + ('+changes' if changed else '')


def run_tool(tool: str, *args) -> None:
    """``python tools/<tool> ARGS`` in a subprocess; raises if it fails."""
    subprocess.run([sys.executable, osp.join(REPO, 'tools', tool),
                    *map(str, args)], check=True)


def fresh_dir(path: str) -> str:
    """``path``, created; an error if an earlier run left checkpoints
    there."""
    if glob.glob(osp.join(path, '*.pth')):
        raise FileExistsError(f'{path} holds checkpoints of an earlier '
                              'run; choose another --work-dir')
    os.makedirs(path, exist_ok=True)
    return path


def train(config: str, run_dir: str, factor: float, evaluations: int,
          seed: int) -> dict:
    """Train one stretched config with ``seed`` in ``run_dir``; its kNN
    curve and wall time."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    stretch_schedule(cfg, factor, evaluations)
    cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
    name = osp.splitext(osp.basename(config))[0]
    stretched = osp.join(fresh_dir(run_dir), name + '.py')
    cfg.dump(stretched)
    start = time.monotonic()
    run_tool('train.py', stretched, '--work-dir', run_dir)
    minutes = (time.monotonic() - start) / 60
    series, _ = read_scalars(run_dir)
    curve = {int(epoch): value for epoch, value in series[KEY].items()}
    raw = series.get(KEY + RAW_PIXELS_SUFFIX, {})
    return dict(
        method=method_name(config),
        seed=seed,
        config=osp.relpath(config, REPO),
        epochs=cfg.train_cfg.max_epochs,
        minutes=round(minutes, 1),
        random_init=curve[0],
        final=curve[max(curve)],
        raw_pixels=next(iter(raw.values()), None),
        curve=curve)


def evaluation_of(method: str):
    """``(protocol, config)`` of a method ('mulan-byol' -> MULAN's), or
    None."""
    return EVALUATIONS.get(method.split('-')[0])


def last_accuracy(work_dir: str, config: str, seed: int,
                  checkpoint: Optional[str]) -> float:
    """Train the evaluation ``config`` with ``seed`` from ``checkpoint``
    (None: from scratch) in ``work_dir``; its last val top-1."""
    options = [f'randomness.seed={seed}']
    if checkpoint:
        options.append(f'model.backbone.init_cfg.checkpoint={checkpoint}')
    run_tool('train.py', config, '--work-dir', fresh_dir(work_dir),
             '--cfg-options', *options)
    accuracy, _ = read_scalars(work_dir)
    accuracy = accuracy[ACCURACY]
    return accuracy[max(accuracy)]


def evaluate(run_dir: str, method: str, seed: int) -> dict:
    """Export the encoder trained in ``run_dir`` and run the method's
    evaluation from it and from scratch, with the same seed and budget."""
    protocol, config = evaluation_of(method)
    from mmsiam.checkpoint.safe_loading import read_last_checkpoint
    encoder = osp.join(run_dir, 'encoder.pth')
    run_tool(osp.join('model_converters', 'extract_backbone.py'),
             read_last_checkpoint(run_dir), encoder)
    start = time.monotonic()
    pretrained = last_accuracy(osp.join(run_dir, 'eval_pretrained'), config,
                               seed, encoder)
    scratch = last_accuracy(osp.join(run_dir, 'eval_scratch'), config,
                            seed, None)
    return dict(protocol=protocol, config=osp.relpath(config, REPO),
                pretrained=pretrained, scratch=scratch,
                minutes=round((time.monotonic() - start) / 60, 1))


def mean_std(values) -> str:
    """'m' for one value, 'm ± s' (sample std) for more."""
    values = list(values)
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}'


def table(results) -> str:
    """The Markdown table of the results: per method, the mean ± std over
    its seeds of kNN top-1 (random init, final, gain) and of its
    evaluation's last top-1 from scratch and from the trained encoder."""
    lines = [
        '| method | seeds | minutes | kNN random init | kNN final | kNN gain '
        '| raw pixels | evaluation (100 labels) | from scratch | pretrained '
        '| gain | commit |', '|---|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for method in sorted({r['method'] for r in results}):
        rows = [r for r in results if r['method'] == method]
        raw = rows[0]['raw_pixels']
        raw = '-' if raw is None else f'{raw:.1f}'
        evaluated = [r['evaluation'] for r in rows if r.get('evaluation')]
        if evaluated:
            evaluation = (evaluated[0]['protocol'],
                          mean_std(e['scratch'] for e in evaluated),
                          mean_std(e['pretrained'] for e in evaluated),
                          mean_std(e['pretrained'] - e['scratch']
                                   for e in evaluated))
        else:
            evaluation = ('-', ) * 4
        commits = ', '.join(f'`{c}`' for c in dict.fromkeys(
            r['commit'] for r in rows))
        lines.append(
            f"| {method} | {len(rows)} | "
            f"{mean_std(r['minutes'] for r in rows)} | "
            f"{mean_std(r['random_init'] for r in rows)} | "
            f"{mean_std(r['final'] for r in rows)} | "
            f"{mean_std(r['final'] - r['random_init'] for r in rows)} | "
            f"{raw} | {' | '.join(evaluation)} | {commits} |")
    return '\n'.join(lines)


def cpu_model(cpuinfo: str = '/proc/cpuinfo') -> str:
    """The CPU's model name and core count ('Intel(R) Xeon(R) Processor,
    2 cores'), or the platform's processor where there is no
    ``/proc/cpuinfo``: the gains depend on the machine."""
    import platform
    try:
        with open(cpuinfo) as f:
            names = [line.split(':', 1)[1].strip() for line in f
                     if line.startswith('model name')]
    except OSError:
        names = []
    name = names[0] if names else (platform.processor() or 'unknown CPU')
    return f'{name}, {os.cpu_count()} cores'


def provenance(results) -> str:
    """One line per run behind the rows: commit, command, date and, when
    recorded, the CPU."""
    runs = dict.fromkeys((r['commit'], r['command'], r['date'],
                          r.get('cpu')) for r in results)
    return '\n'.join(
        f'Commit `{commit}`, `{command}`, {date}' +
        (f', {cpu}.' if cpu else '.') for commit, command, date, cpu in runs)


def merge(previous, new):
    """The rows of ``new`` and those of ``previous`` for the (method, seed)
    pairs that ``new`` does not have, in method and seed order."""
    rows = {(r['method'], r.get('seed', 0)): r for r in previous}
    rows.update(((r['method'], r['seed']), r) for r in new)
    return [rows[key] for key in sorted(rows)]


def load_results(path: str) -> list:
    """The rows of an earlier ``results.json`` (none if there is no
    file)."""
    if not osp.exists(path):
        return []
    with open(path) as f:
        results = json.load(f)['results']
    for r in results:
        r['curve'] = {int(epoch): v for epoch, v in r['curve'].items()}
    return results


def plot(results, out: str) -> None:
    """One panel per method: kNN top-1 against the epoch, a line per seed,
    raw pixels dashed."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    methods = sorted({r['method'] for r in results})
    cols = min(3, len(methods))
    rows = -(-len(methods) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3 * rows),
                             squeeze=False)
    for axis in axes.flat[len(methods):]:
        axis.set_visible(False)
    for axis, method in zip(axes.flat, methods):
        runs = [r for r in results if r['method'] == method]
        for r in runs:
            epochs = sorted(r['curve'])
            axis.plot(epochs, [r['curve'][e] for e in epochs], marker='.',
                      label=f"seed {r.get('seed', 0)}")
        if runs[0]['raw_pixels'] is not None:
            draw_raw_pixel_reference(
                axis, {KEY + RAW_PIXELS_SUFFIX: {0: runs[0]['raw_pixels']}},
                KEY)
        minutes = sum(r['minutes'] for r in runs) / len(runs)
        axis.set_title(f'{method} ({minutes:.1f} min)', fontsize=10)
        axis.set_xlabel('epoch')
        axis.set_ylabel('kNN top-1 (%)')
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def benchmark_command(configs, epoch_factor: float, seeds=(0, 1, 2),
                      skip_evaluation: bool = False) -> str:
    """The command line of a run: the options that differ from the
    defaults, and the configs unless they are the default ones."""
    command = 'python tools/analysis_tools/small_scale_benchmark.py'
    if epoch_factor != 1:
        command += f' --epoch-factor {epoch_factor:g}'
    if list(seeds) != [0, 1, 2]:
        command += ' --seeds ' + ' '.join(map(str, seeds))
    if skip_evaluation:
        command += ' --skip-evaluation'
    if sorted(map(osp.abspath, configs)) != sorted(DEFAULT_CONFIGS):
        command += ''.join(f' {osp.relpath(c, REPO)}' for c in configs)
    return command


def section_markers(section: str = SECTION):
    """The first and last line of a doc section."""
    return f'<!-- {section}:start -->', f'<!-- {section}:end -->'


def write_doc(doc: str, text: str, section: str = SECTION) -> None:
    """Replace the ``section`` of ``doc`` with ``text``."""
    begin, end = section_markers(section)
    with open(doc) as f:
        content = f.read()
    if begin not in content or end not in content:
        raise ValueError(f'{doc}: no "{begin}" ... "{end}" section to '
                         'write the table into')
    head, rest = content.split(begin, 1)
    tail = rest.split(end, 1)[1]
    with open(doc, 'w') as f:
        f.write(f'{head}{begin}\n{text}\n{end}{tail}')


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    results_file = osp.join(args.work_dir, 'results.json')
    results = load_results(results_file)
    run = dict(commit=git_commit(outputs=(args.doc, args.png)),
               command=benchmark_command(args.configs, args.epoch_factor,
                                         args.seeds, args.skip_evaluation),
               date=time.strftime('%Y-%m-%d'), cpu=cpu_model())
    for config in args.configs:
        name = osp.splitext(osp.basename(config))[0]
        for seed in args.seeds:
            run_dir = osp.join(args.work_dir, name, f'seed{seed}')
            result = train(config, run_dir, args.epoch_factor,
                           args.evaluations, seed)
            if not args.skip_evaluation and evaluation_of(result['method']):
                result['evaluation'] = evaluate(run_dir, result['method'],
                                                seed)
            results = merge(results, [dict(result, **run)])
            with open(results_file, 'w') as f:
                json.dump(dict(results=results), f, indent=1)
    png = args.png or osp.join(args.work_dir, 'knn_curves.png')
    plot(results, png)
    section = f'{table(results)}\n\n{provenance(results)}'
    if args.doc:
        rel = osp.relpath(png, osp.dirname(osp.abspath(args.doc)))
        write_doc(args.doc, f'{section}\n\n![kNN top-1 curves]({rel})',
                  args.section)
    print(section)
    print(f'kNN curves: {png}')


if __name__ == '__main__':
    main()
