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
3. each of the method's demo-scale evaluation configs (:data:`EVALUATIONS`:
   a linear probe and few-label fine-tuning, on 100 labelled digits) is
   trained twice with the same seed and budget by ``tools/train.py``: from
   the exported encoder and from scratch. Its last val top-1 is the number
   reported.

The rows (one per method and seed: minutes, kNN, the evaluation
accuracies, the commit, command and CPU) go to ``WORK_DIR/results.json``; a
Markdown table of the mean +- std over the seeds to stdout and, with
``--doc``, between the ``<!-- SECTION:start -->`` and
``<!-- SECTION:end -->`` lines of that file (``--section``, default
``small-scale-benchmark``), next to a PNG of the kNN curves (``--png``).
Rows of (method, seed) pairs that an earlier run in the same work dir
trained and this one does not are kept, each with its own commit, so that
the demos can be benchmarked one at a time.
``--skip-evaluation`` trains and tabulates the kNN monitor only;
``--reuse-pretraining`` trains nothing and evaluates the pretrainings an
earlier run left in the work dir (for a new evaluation protocol), naming
the commit that pretrained them.

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

from mmsiam.utils import cpu_model  # noqa: E402

DEMO_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*',
                                         '*_demo.py')))
# A method's own ablations of a demo (MULAN: a shared predictor, global
# views only), benchmarked beside it.
ABLATION_CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', '*', 'ablations', '*_demo.py')))
DEFAULT_CONFIGS = DEMO_CONFIGS + ABLATION_CONFIGS
CLASSIFICATION = osp.join(REPO, 'configs', 'benchmarks', 'classification')
LINEAR_PROBE, FINE_TUNING = 'linear probe', 'fine-tuning'
# The columns of the table, in this order.
PROTOCOLS = (LINEAR_PROBE, FINE_TUNING)
# Each method's demo-scale evaluations on 100 labels, its paper's headline
# protocol first (ConMIM publishes no linear protocol: its probe is
# SiameseIM's; MULAN's fine-tuning is its eval_linear.py --weights
# finetune, whose settings the paper does not give).
EVALUATIONS = {
    'siameseim': {
        FINE_TUNING: osp.join(
            CLASSIFICATION, 'siameseim_vit-tiny-p8_1xb25-coslr-100e_'
            'mnist5k-100labels_demo.py'),
        LINEAR_PROBE: osp.join(
            CLASSIFICATION, 'siameseim_vit-tiny-p8_1xb25-linear-coslr-90e_'
            'mnist5k-100labels_demo.py'),
    },
    'conmim': {
        FINE_TUNING: osp.join(
            CLASSIFICATION, 'conmim_vit-tiny-p8_1xb25-coslr-100e_'
            'mnist5k-100labels_demo.py'),
        LINEAR_PROBE: osp.join(
            CLASSIFICATION, 'conmim_vit-tiny-p8_1xb25-linear-coslr-90e_'
            'mnist5k-100labels_demo.py'),
    },
    'mulan': {
        LINEAR_PROBE: osp.join(
            CLASSIFICATION, 'mulan_resnet18-w16_1xb25-linear-coslr-100e_'
            'mnist5k-100labels_demo.py'),
        FINE_TUNING: osp.join(
            CLASSIFICATION, 'mulan_resnet18-w16_1xb25-coslr-100e_'
            'mnist5k-100labels_demo.py'),
    },
}
# What a reused pretraining row keeps (--reuse-pretraining).
PRETRAINING_FIELDS = ('method', 'seed', 'config', 'epochs', 'minutes',
                      'random_init', 'final', 'raw_pixels', 'curve')
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
                        help='kNN only: no export, no linear probe or '
                        'fine-tuning')
    parser.add_argument('--reuse-pretraining', action='store_true',
                        help='do not train: evaluate the pretrainings an '
                        'earlier run left in WORK_DIR (same configs, '
                        'options and seeds), keeping their kNN rows')
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


def stretched_config(config: str, factor: float, evaluations: int,
                     seed: int):
    """``config`` with its schedule stretched (:func:`stretch_schedule`) and
    ``seed`` set."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    stretch_schedule(cfg, factor, evaluations)
    cfg.randomness = dict(cfg.get('randomness', {}), seed=seed)
    return cfg


def config_name(config: str) -> str:
    """A config's file name without '.py': the name of its folders."""
    return osp.splitext(osp.basename(config))[0]


def config_copy(config: str, run_dir: str) -> str:
    """Where the stretched ``config`` is saved in ``run_dir``."""
    return osp.join(run_dir, config_name(config) + '.py')


def train(config: str, run_dir: str, factor: float, evaluations: int,
          seed: int) -> dict:
    """Train one stretched config with ``seed`` in ``run_dir``; its kNN
    curve and wall time."""
    cfg = stretched_config(config, factor, evaluations, seed)
    stretched = config_copy(config, fresh_dir(run_dir))
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


# Keys that tools/train.py adds to the copy of the config it saves.
RUN_KEYS = ('work_dir', 'launcher')


def same_settings(ran, cfg) -> bool:
    """Whether the config a run saved (``ran``) is ``cfg``, but for
    :data:`RUN_KEYS`."""
    from mmengine.config import Config

    def settings(c):
        return Config({k: v for k, v in c.to_dict().items()
                       if k not in RUN_KEYS}).pretty_text

    return settings(ran) == settings(cfg)


def reused_pretraining(previous, config: str, run_dir: str, factor: float,
                       evaluations: int, seed: int) -> dict:
    """The pretraining of ``config`` with ``seed`` that an earlier run left
    in ``run_dir`` and recorded in ``previous`` (its rows): its
    :data:`PRETRAINING_FIELDS`, and under ``'pretraining'`` the commit,
    date and CPU it ran with. An error names what is missing or changed."""
    from mmengine.config import Config

    from mmsiam.checkpoint.safe_loading import read_last_checkpoint
    method = method_name(config)
    rows = [r for r in previous
            if (r['method'], r.get('seed', 0)) == (method, seed)]
    saved = config_copy(config, run_dir)
    if not rows or not osp.isfile(saved):
        raise FileNotFoundError(
            f'--reuse-pretraining: no earlier pretraining of {method} with '
            f'seed {seed} in {run_dir} (and its results.json); run without '
            '--reuse-pretraining to train it')
    if not same_settings(
            Config.fromfile(saved),
            stretched_config(config, factor, evaluations, seed)):
        raise ValueError(
            f'--reuse-pretraining: {saved} differs from {config} as '
            'this run would train it (the config, --epoch-factor or '
            '--evaluations changed); run without --reuse-pretraining '
            'in another --work-dir')
    read_last_checkpoint(run_dir)
    row = rows[0]
    reused = {key: row[key] for key in PRETRAINING_FIELDS}
    reused['pretraining'] = row.get('pretraining') or {
        key: row.get(key) for key in ('commit', 'date', 'cpu')}
    return reused


def evaluation_of(method: str) -> dict:
    """``{protocol: config}`` of a method's evaluations ('mulan-byol' ->
    MULAN's), empty for none."""
    return EVALUATIONS.get(method.split('-')[0], {})


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
    """Export the encoder trained in ``run_dir`` (once: a later run that
    reuses the pretraining finds it) and run each of the
    method's evaluations from it and from scratch, with the same seed and
    budget, in ``run_dir/<evaluation config name>/{pretrained,scratch}``:
    ``{protocol: dict(config, pretrained, scratch, minutes)}``."""
    from mmsiam.checkpoint.safe_loading import read_last_checkpoint
    encoder = osp.join(run_dir, 'encoder.pth')
    if not osp.exists(encoder):  # else exported for an earlier evaluation
        run_tool(osp.join('model_converters', 'extract_backbone.py'),
                 read_last_checkpoint(run_dir), encoder)
    results = {}
    for protocol, config in evaluation_of(method).items():
        start = time.monotonic()
        eval_dir = osp.join(run_dir, config_name(config))
        pretrained = last_accuracy(osp.join(eval_dir, 'pretrained'),
                                   config, seed, encoder)
        scratch = last_accuracy(osp.join(eval_dir, 'scratch'), config, seed,
                                None)
        results[protocol] = dict(
            config=osp.relpath(config, REPO), pretrained=pretrained,
            scratch=scratch,
            minutes=round((time.monotonic() - start) / 60, 1))
    return results


def mean_std(values) -> str:
    """'m' for one value, 'm ± s' (sample std) for more."""
    values = list(values)
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{statistics.mean(values):.1f} ± {statistics.stdev(values):.1f}'


def table(results) -> str:
    """The Markdown table of the results: per method, the mean ± std over
    its seeds of kNN top-1 (random init, final, gain) and, for each of
    :data:`PROTOCOLS`, of the evaluation's last top-1 from scratch and from
    the trained encoder, and of the gain."""
    header = ['method', 'seeds', 'minutes', 'kNN random init', 'kNN final',
              'kNN gain', 'raw pixels']
    for protocol in PROTOCOLS:
        header += [f'{protocol} from scratch', f'{protocol} pretrained',
                   f'{protocol} gain']
    header.append('commit')
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    for method in sorted({r['method'] for r in results}):
        rows = [r for r in results if r['method'] == method]
        raw = rows[0]['raw_pixels']
        cells = [
            method, str(len(rows)),
            mean_std(r['minutes'] for r in rows),
            mean_std(r['random_init'] for r in rows),
            mean_std(r['final'] for r in rows),
            mean_std(r['final'] - r['random_init'] for r in rows),
            '-' if raw is None else f'{raw:.1f}'
        ]
        for protocol in PROTOCOLS:
            evaluated = [r['evaluations'][protocol] for r in rows
                         if protocol in r.get('evaluations', {})]
            cells += [
                mean_std(e['scratch'] for e in evaluated),
                mean_std(e['pretrained'] for e in evaluated),
                mean_std(e['pretrained'] - e['scratch'] for e in evaluated)
            ] if evaluated else ['-'] * 3
        cells.append(', '.join(f'`{c}`' for c in dict.fromkeys(
            r['commit'] for r in rows)))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def provenance(results) -> str:
    """One line per run behind the rows: commit, command, date and, when
    recorded, the CPU; for rows whose pretraining an earlier run did
    (``--reuse-pretraining``), that run's commit, date and CPU too."""
    def described(commit, date, cpu):
        return f'`{commit}`, {date}' + (f', {cpu}' if cpu else '')

    runs = dict.fromkeys(
        (r['commit'], r['command'], r['date'], r.get('cpu'),
         tuple(r['pretraining'].values()) if r.get('pretraining') else None)
        for r in results)
    lines = []
    for commit, command, date, cpu, pretraining in runs:
        line = f'Commit {described(commit, date, cpu)}: `{command}`'
        if pretraining:
            line += ('; pretrained by commit '
                     f'{described(*pretraining)}')
        lines.append(line + '.')
    return '\n'.join(lines)


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
                      skip_evaluation: bool = False,
                      reuse_pretraining: bool = False) -> str:
    """The command line of a run: the options that differ from the
    defaults, and the configs unless they are the default ones."""
    command = 'python tools/analysis_tools/small_scale_benchmark.py'
    if epoch_factor != 1:
        command += f' --epoch-factor {epoch_factor:g}'
    if list(seeds) != [0, 1, 2]:
        command += ' --seeds ' + ' '.join(map(str, seeds))
    if skip_evaluation:
        command += ' --skip-evaluation'
    if reuse_pretraining:
        command += ' --reuse-pretraining'
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
                                         args.seeds, args.skip_evaluation,
                                         args.reuse_pretraining),
               date=time.strftime('%Y-%m-%d'), cpu=cpu_model())
    for config in args.configs:
        for seed in args.seeds:
            run_dir = osp.join(args.work_dir, config_name(config),
                               f'seed{seed}')
            if args.reuse_pretraining:
                result = reused_pretraining(results, config, run_dir,
                                            args.epoch_factor,
                                            args.evaluations, seed)
            else:
                result = train(config, run_dir, args.epoch_factor,
                               args.evaluations, seed)
            if not args.skip_evaluation and evaluation_of(result['method']):
                result['evaluations'] = evaluate(run_dir, result['method'],
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
