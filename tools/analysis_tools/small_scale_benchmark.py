#!/usr/bin/env python
"""The small CPU benchmark: train every method's ``_demo`` config for
longer on the built-in data and report how its kNN accuracy develops.

Each config is loaded, its schedule stretched by ``--epoch-factor``
(:func:`stretch_schedule`: epochs, scheduler milestones and the kNN
interval; the EMA momentum follows the iteration count by itself), saved
to ``WORK_DIR/<config>/<config>.py`` and trained there by
``tools/train.py``. The results (method, minutes, kNN top-1 before
training, at the end, on raw pixels, every evaluation, and the commit and
command of the run) go to ``WORK_DIR/results.json``, a Markdown table to
stdout and, with ``--doc``, between the ``<!-- small-scale-benchmark:start
-->`` and ``<!-- small-scale-benchmark:end -->`` lines of that file, next
to a PNG of the kNN curves (``--png``). The rows of methods that an
earlier run in the same work dir trained and this one does not are kept,
each with its own commit, so that the demos can be benchmarked one at a
time.

Example (the table of docs/small_scale.md)::

    python tools/analysis_tools/small_scale_benchmark.py --epoch-factor 6 \\
        --work-dir work_dirs/small_scale --doc docs/small_scale.md \\
        --png docs/images/small_scale_knn.png
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
from plot_curves import (RAW_PIXELS_SUFFIX, draw_raw_pixel_reference,  # noqa
                         read_scalars)

DEMO_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '*',
                                         '*_demo.py')))
KEY = 'knn/top1'
BEGIN = '<!-- small-scale-benchmark:start -->'
END = '<!-- small-scale-benchmark:end -->'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train the _demo configs longer and tabulate kNN top-1')
    parser.add_argument('configs', nargs='*', default=DEMO_CONFIGS,
                        help='configs to train (default: every '
                        'configs/*/*_demo.py)')
    parser.add_argument('--epoch-factor', type=float, default=6.,
                        help='multiply each schedule by this (default 6)')
    parser.add_argument('--evaluations', type=int, default=8,
                        help='kNN evaluations after the one before training '
                        '(default 8)')
    parser.add_argument('--work-dir', default='work_dirs/small_scale',
                        help='one sub-folder per config, and results.json')
    parser.add_argument('--doc', help='Markdown file whose benchmark '
                        'section receives the table')
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
    # A divisor of the epochs (the last evaluation at the last epoch).
    cfg.train_cfg.val_interval = min(
        (d for d in range(1, epochs + 1) if epochs % d == 0),
        key=lambda d: abs(epochs / d - evaluations))


def method_name(config: str) -> str:
    """'siameseim', 'mulan-byol'... from the config file name."""
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


def train(config: str, work_dir: str, factor: float,
          evaluations: int) -> dict:
    """Train one stretched config; its kNN curve and wall time."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    stretch_schedule(cfg, factor, evaluations)
    name = osp.splitext(osp.basename(config))[0]
    run_dir = osp.join(work_dir, name)
    if glob.glob(osp.join(run_dir, '*.pth')):
        raise FileExistsError(f'{run_dir} holds checkpoints of an earlier '
                              'run; choose another --work-dir')
    os.makedirs(run_dir, exist_ok=True)
    stretched = osp.join(run_dir, name + '.py')
    cfg.dump(stretched)
    start = time.monotonic()
    subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), stretched, '--work-dir', run_dir
    ], check=True)
    minutes = (time.monotonic() - start) / 60
    series, _ = read_scalars(run_dir)
    curve = {int(epoch): value for epoch, value in series[KEY].items()}
    raw = series.get(KEY + RAW_PIXELS_SUFFIX, {})
    return dict(
        method=method_name(config),
        config=osp.relpath(config, REPO),
        epochs=cfg.train_cfg.max_epochs,
        minutes=round(minutes, 1),
        random_init=curve[0],
        final=curve[max(curve)],
        raw_pixels=next(iter(raw.values()), None),
        curve=curve)


def table(results) -> str:
    """The Markdown table of the results."""
    lines = [
        '| method | epochs | minutes | random init | final kNN | gain | '
        'raw pixels | commit |', '|---|---|---|---|---|---|---|---|'
    ]
    for r in results:
        raw = '-' if r['raw_pixels'] is None else f"{r['raw_pixels']:.1f}"
        lines.append(f"| {r['method']} | {r['epochs']} | {r['minutes']} | "
                     f"{r['random_init']:.1f} | {r['final']:.1f} | "
                     f"{r['final'] - r['random_init']:+.1f} | {raw} | "
                     f"`{r['commit']}` |")
    return '\n'.join(lines)


def provenance(results) -> str:
    """One line per run behind the rows: commit, command and date."""
    runs = dict.fromkeys((r['commit'], r['command'], r['date'])
                         for r in results)
    return '\n'.join(f'Commit `{commit}`, `{command}`, {date}.'
                     for commit, command, date in runs)


def merge(previous, new):
    """The rows of ``new`` and those of ``previous`` for the methods that
    ``new`` does not have, in method order."""
    rows = {r['method']: r for r in previous}
    rows.update((r['method'], r) for r in new)
    return [rows[method] for method in sorted(rows)]


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
    """One panel per method: kNN top-1 against the epoch, raw pixels
    dashed."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    cols = min(3, len(results))
    rows = -(-len(results) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3 * rows),
                             squeeze=False)
    for axis in axes.flat[len(results):]:
        axis.set_visible(False)
    for axis, r in zip(axes.flat, results):
        epochs = sorted(r['curve'])
        axis.plot(epochs, [r['curve'][e] for e in epochs], marker='.')
        if r['raw_pixels'] is not None:
            draw_raw_pixel_reference(
                axis, {KEY + RAW_PIXELS_SUFFIX: {0: r['raw_pixels']}}, KEY)
        axis.set_title(f"{r['method']} ({r['minutes']} min)", fontsize=10)
        axis.set_xlabel('epoch')
        axis.set_ylabel('kNN top-1 (%)')
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def benchmark_command(configs, epoch_factor: float) -> str:
    """The command line of a run, naming the configs unless they are all
    the ``_demo`` configs."""
    command = ('python tools/analysis_tools/small_scale_benchmark.py '
               f'--epoch-factor {epoch_factor:g}')
    if sorted(map(osp.abspath, configs)) != DEMO_CONFIGS:
        command += ''.join(f' {osp.relpath(c, REPO)}' for c in configs)
    return command


def write_doc(doc: str, section: str) -> None:
    """Replace the benchmark section of ``doc``."""
    with open(doc) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f'{doc}: no "{BEGIN}" ... "{END}" section to '
                         'write the table into')
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(doc, 'w') as f:
        f.write(f'{head}{BEGIN}\n{section}\n{END}{tail}')


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    results_file = osp.join(args.work_dir, 'results.json')
    results = load_results(results_file)
    run = dict(commit=git_commit(outputs=(args.doc, args.png)),
               command=benchmark_command(args.configs, args.epoch_factor),
               date=time.strftime('%Y-%m-%d'))
    for config in args.configs:
        result = train(config, args.work_dir, args.epoch_factor,
                       args.evaluations)
        results = merge(results, [dict(result, **run)])
        with open(results_file, 'w') as f:
            json.dump(dict(results=results), f, indent=1)
    png = args.png or osp.join(args.work_dir, 'knn_curves.png')
    plot(results, png)
    section = f'{table(results)}\n\n{provenance(results)}'
    if args.doc:
        rel = osp.relpath(png, osp.dirname(osp.abspath(args.doc)))
        write_doc(args.doc, f'{section}\n\n![kNN top-1 curves]({rel})')
    print(section)
    print(f'kNN curves: {png}')


if __name__ == '__main__':
    main()
