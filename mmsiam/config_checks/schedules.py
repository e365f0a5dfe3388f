"""Parameter schedulers that fit the run's length.

A shortened run (``--cfg-options train_cfg.max_epochs=1``) keeps the
schedulers of the long one: a cosine that begins after a 1-epoch warm-up
then begins when the run ends, and mmengine stops with "end should be
larger than begin, but got begin=62, end=62" in iterations the user never
wrote. :func:`fit_schedulers_to_run` runs before the runner is built and

- drops a scheduler that begins at or after the run's end, and ends one
  that would run past it there (a cosine then anneals over what is left):
  the intent of a shorter run is clear; each change is one line to print;
- keeps a warm-up longer than the run (a smoke test of a few iterations
  wants the real schedule's start) with a line that says the peak lr is
  never reached and how to shorten it;
- refuses a scheduler with ``begin >= end``, naming the keys to set.
"""
from typing import List

from mmengine.config import Config

from .errors import ConfigKeyError

WARMUPS = ('LinearLR', 'LinearWarmupLR')


def _run_length(cfg: Config):
    """(length, unit, by_epoch) of the training loop, or None when it has
    no fixed length."""
    train_cfg = cfg.get('train_cfg') or {}
    loop = str(train_cfg.get('type', '')).split('.')[-1]
    if 'max_epochs' in train_cfg and loop != 'IterBasedTrainLoop':
        return train_cfg['max_epochs'], 'epoch', True
    if 'max_iters' in train_cfg:
        return train_cfg['max_iters'], 'iteration', False
    return None


def _is_warmup(scheduler: dict) -> bool:
    return (str(scheduler.get('type', '')).split('.')[-1] in WARMUPS
            and scheduler.get('end_factor', 1.) == 1.)


def fit_schedulers_to_run(cfg: Config) -> List[str]:
    """Fit ``cfg.param_scheduler`` to ``cfg.train_cfg``'s length in place
    (see the module's doc); returns one line per change made or warning."""
    schedulers = cfg.get('param_scheduler')
    length = _run_length(cfg)
    if not schedulers or length is None:
        return []
    as_list = isinstance(schedulers, (list, tuple))
    schedulers = list(schedulers) if as_list else [schedulers]
    run_end, unit, by_epoch = length
    changes, kept = [], []
    for i, scheduler in enumerate(schedulers):
        key = f'param_scheduler[{i}]' if as_list else 'param_scheduler'
        name = f'{key} ({scheduler.get("type")})'
        if scheduler.get('by_epoch', True) != by_epoch:
            kept.append(scheduler)  # another unit: not comparable here
            continue
        begin = scheduler.get('begin', 0)
        end = scheduler.get('end', run_end)
        if 'end' in scheduler and begin >= end:
            raise ConfigKeyError(
                f'{name}: begin={begin} >= end={end}; a scheduler acts from '
                f'{unit} begin up to end: set {key}.begin below {key}.end '
                f'(file: {cfg.filename})')
        if _is_warmup(scheduler) and end > run_end:
            changes.append(
                f'{name} warms up until {unit} {end}, past the end of the '
                f'{run_end}-{unit} run: the lr never reaches its peak (kept, '
                'as for a smoke test; for a short run shorten it with '
                f'--cfg-options param_scheduler.{i}.end=N, N <= {run_end})')
            kept.append(scheduler)
            continue
        if begin >= run_end:
            changes.append(f'{name} begins at {unit} {begin}, when the '
                           f'{run_end}-{unit} run has ended: dropped')
            continue
        if end > run_end:
            scheduler = dict(scheduler, end=run_end)
            if scheduler.get('T_max') == end - begin:
                scheduler['T_max'] = run_end - begin
            changes.append(f'{name} ends at {unit} {run_end} with the run '
                           f'(was {end})')
        kept.append(scheduler)
    if changes:
        cfg.param_scheduler = kept if as_list else (kept[0] if kept else [])
    return changes
