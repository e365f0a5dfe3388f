#!/usr/bin/env python
"""Plot training curves (loss, lr, momentum, kNN accuracy, ...) of a work
dir to one PNG.

Reads every ``<WORK_DIR>/<timestamp>/vis_data/scalars.json`` that mmengine's
``LocalVisBackend`` writes (a resumed run adds a timestamp folder; later
runs override earlier values of the same step) and draws one panel per
key against the iteration.

Example::

    python tools/analysis_tools/plot_curves.py work_dirs/demo_pretrain/<ts> \\
        --keys loss lr momentum --out curves.png
"""
import argparse
import glob
import json
import os.path as osp
import sys
from collections import defaultdict

DEFAULT_KEYS = ('loss', 'lr', 'momentum', 'knn/top1', 'probe/top1')
# KNNValLoop logs its raw-pixel reference as '<metric>_raw_pixels'.
RAW_PIXELS_SUFFIX = '_raw_pixels'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot training curves')
    parser.add_argument('work_dir', help='a work dir of tools/train.py')
    parser.add_argument('--keys', nargs='+',
                        help='scalars to plot (default: those of '
                        f'{", ".join(DEFAULT_KEYS)} and loss_* that exist)')
    parser.add_argument('--out', help='PNG to write (default: '
                        'WORK_DIR/curves.png)')
    return parser.parse_args(argv)


def read_scalars(work_dir):
    """``{key: {step: value}}`` from every run under ``work_dir`` and
    ``{key: unit}``: training scalars are per iteration; validation
    scalars (e.g. ``knn/top1``) per epoch in an epoch-based run."""
    files = sorted(glob.glob(osp.join(work_dir, '**', 'vis_data',
                                      'scalars.json'), recursive=True))
    if not files:
        raise FileNotFoundError(
            f'{work_dir}: no <timestamp>/vis_data/scalars.json; is it a work '
            'dir of tools/train.py with the LocalVisBackend?')
    series, units = defaultdict(dict), {}
    val_records, epoch_based = [], False
    for path in files:  # timestamp folders sort chronologically
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                if 'iter' not in record:  # a validation record
                    val_records.append(record)
                    continue
                epoch_based |= 'epoch' in record
                for key, value in record.items():
                    if isinstance(value, (int, float)) and key not in (
                            'step', 'iter', 'epoch'):
                        series[key][record['iter']] = value
                        units[key] = 'iteration'
    for record in val_records:
        for key, value in record.items():
            if isinstance(value, (int, float)) and key not in (
                    'step', 'time', 'data_time'):
                series[key][record['step']] = value
                units[key] = 'epoch' if epoch_based else 'iteration'
    return series, units


def draw_raw_pixel_reference(axis, series, key):
    """The kNN monitor's raw-pixel value of ``key`` (logged once as
    ``<key>_raw_pixels``), as a dashed line, if the run has one."""
    reference = series.get(key + RAW_PIXELS_SUFFIX)
    if reference:
        axis.axhline(next(iter(reference.values())), color='grey',
                     linestyle='--', linewidth=1, label='raw pixels')
        axis.legend(loc='lower right', fontsize='small')


def plot(series, units, keys, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.4 * len(keys)),
                             squeeze=False)
    for axis, key in zip(axes[:, 0], keys):
        steps = sorted(series[key])
        axis.plot(steps, [series[key][s] for s in steps], marker='.',
                  linewidth=1)
        draw_raw_pixel_reference(axis, series, key)
        axis.set_ylabel(key)
        axis.set_xlabel(units[key])
        axis.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    try:
        series, units = read_scalars(args.work_dir)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    keys = args.keys or [k for k in DEFAULT_KEYS if k in series] + sorted(
        k for k in series if k.startswith('loss_'))
    missing = [k for k in keys if k not in series]
    if missing or not keys:
        sys.exit(f'error: {args.work_dir} has no {missing or "known"} '
                 f'scalars; it has {sorted(series)}')
    out = args.out or osp.join(args.work_dir, 'curves.png')
    plot(series, units, keys, out)
    print(f'wrote {", ".join(keys)} curves to {out}')


if __name__ == '__main__':
    main()
