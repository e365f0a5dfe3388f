"""tools/analysis_tools/small_scale_benchmark.py: the stretched schedules
of the real demo configs, the table and the doc section it writes."""
import json
import subprocess

import pytest
from mmengine.config import Config

from helpers import load_tool

benchmark = load_tool('analysis_tools/small_scale_benchmark.py')


@pytest.mark.parametrize('config', benchmark.DEMO_CONFIGS)
def test_stretch_schedule_scales_every_milestone(config):
    cfg = Config.fromfile(config)
    epochs = cfg.train_cfg.max_epochs
    schedulers = [dict(s) for s in cfg.param_scheduler]
    benchmark.stretch_schedule(cfg, 3, evaluations=4)
    assert cfg.train_cfg.max_epochs == 3 * epochs
    for old, new in zip(schedulers, cfg.param_scheduler):
        for key in ('begin', 'end', 'T_max'):
            if key in old:
                assert new[key] == 3 * min(old[key], epochs), (key, old)
    # The divisor of the epochs closest to 4 evaluations.
    epochs = cfg.train_cfg.max_epochs
    divisors = [d for d in range(1, epochs + 1) if epochs % d == 0]
    assert cfg.train_cfg.val_interval in divisors
    assert abs(epochs / cfg.train_cfg.val_interval - 4) == min(
        abs(epochs / d - 4) for d in divisors)


def test_stretch_schedule_refuses_iteration_schedules():
    cfg = Config(dict(train_cfg=dict(type='IterBasedTrainLoop',
                                     max_iters=10)))
    with pytest.raises(ValueError, match='epoch-based'):
        benchmark.stretch_schedule(cfg, 2, 4)
    cfg = Config(dict(train_cfg=dict(max_epochs=2), param_scheduler=[
        dict(type='LinearLR', by_epoch=False, begin=0, end=5)]))
    with pytest.raises(ValueError, match='LinearLR'):
        benchmark.stretch_schedule(cfg, 2, 4)


RUN = dict(commit='abc1234', command='python tools/analysis_tools/'
           'small_scale_benchmark.py --epoch-factor 6', date='2026-12-02')
RESULTS = [
    dict(RUN, method='mulan-byol', epochs=18, minutes=12.5, random_init=85.7,
         final=96.2, raw_pixels=92.5, curve={0: 85.7, 2: 90.0, 18: 96.2}),
    dict(RUN, method='siameseim', epochs=48, minutes=25.0, random_init=39.5,
         final=55.0, raw_pixels=None, curve={0: 39.5, 48: 55.0}),
]


def test_table_and_doc_section(tmp_path):
    results = RESULTS
    table = benchmark.table(results)
    assert ('| mulan-byol | 18 | 12.5 | 85.7 | 96.2 | +10.5 | 92.5 | '
            '`abc1234` |') in table
    assert ('| siameseim | 48 | 25.0 | 39.5 | 55.0 | +15.5 | - | '
            '`abc1234` |') in table
    doc = tmp_path / 'small_scale.md'
    doc.write_text(f'# Title\n\n{benchmark.BEGIN}\nold\n{benchmark.END}\n'
                   'after\n')
    benchmark.write_doc(str(doc), table)
    text = doc.read_text()
    assert 'old' not in text and table in text
    assert text.startswith('# Title') and text.endswith('after\n')
    png = tmp_path / 'curves.png'
    benchmark.plot(results, str(png))
    assert png.stat().st_size > 1000
    doc.write_text('no section\n')
    with pytest.raises(ValueError, match='small_scale.md'):
        benchmark.write_doc(str(doc), table)


def test_benchmark_command_names_a_subset_of_the_demos():
    everything = benchmark.benchmark_command(benchmark.DEMO_CONFIGS, 6.)
    assert everything == ('python tools/analysis_tools/'
                          'small_scale_benchmark.py --epoch-factor 6')
    one = benchmark.benchmark_command(benchmark.DEMO_CONFIGS[:1], 2.5)
    assert one == (everything.replace('6', '2.5') + ' ' +
                   benchmark.DEMO_CONFIGS[0][len(benchmark.REPO) + 1:])


def test_a_later_run_replaces_its_rows_and_keeps_the_others(tmp_path):
    results_file = tmp_path / 'results.json'
    assert benchmark.load_results(str(results_file)) == []
    results_file.write_text(json.dumps(dict(results=RESULTS)))
    previous = benchmark.load_results(str(results_file))
    assert previous[0]['curve'] == {0: 85.7, 2: 90.0, 18: 96.2}
    rerun = dict(RESULTS[1], commit='def5678', final=60.0,
                 command=RUN['command'] + ' configs/siameseim/x_demo.py')
    conmim = dict(RESULTS[1], method='conmim', commit='def5678',
                  command=rerun['command'])
    merged = benchmark.merge(previous, [rerun, conmim])
    assert [r['method'] for r in merged] == ['conmim', 'mulan-byol',
                                             'siameseim']
    assert merged[2]['final'] == 60.0 and merged[1] == previous[0]
    assert benchmark.provenance(merged).splitlines() == [
        f"Commit `def5678`, `{rerun['command']}`, 2026-12-02.",
        f"Commit `abc1234`, `{RUN['command']}`, 2026-12-02.",
    ]


def test_commit_is_clean_when_only_its_own_outputs_changed(tmp_path):
    """A second run in the same checkout rewrites the doc and PNG of the
    first; only other changes make the commit '+changes'."""

    def git(*args):
        subprocess.run(['git', '-c', 'user.name=t', '-c', 'user.email=t@t',
                        *args], cwd=tmp_path, check=True, capture_output=True)

    git('init', '-q')
    for name in ('small_scale.md', 'knn.png', 'train.py'):
        (tmp_path / name).write_text('first\n')
    git('add', '.')
    git('commit', '-qm', 'first')
    outputs = (str(tmp_path / 'small_scale.md'), str(tmp_path / 'knn.png'))
    commit = benchmark.git_commit(str(tmp_path), outputs)
    assert '+' not in commit and commit != 'unknown'
    for path in outputs:
        with open(path, 'w') as f:
            f.write('written by a run\n')
    assert benchmark.git_commit(str(tmp_path), outputs) == commit
    (tmp_path / 'train.py').write_text('changed\n')
    assert benchmark.git_commit(str(tmp_path), outputs) == commit + '+changes'
