"""tools/analysis_tools/small_scale_benchmark.py: the stretched schedules
of the real demo configs, the table and the doc section it writes."""
import glob
import json
import os
import re
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
    cfg = Config(dict(train_cfg=dict(max_epochs=10), param_scheduler=[
        dict(type='LinearWarmupLR', by_epoch=True, begin=0, end=1)]))
    with pytest.raises(ValueError, match='LinearWarmupLR would be left no '
                       r'epoch \(10 -> 2 epochs\); use a larger factor'):
        benchmark.stretch_schedule(cfg, 0.2, 4)


RUN = dict(commit='abc1234', command='python tools/analysis_tools/'
           'small_scale_benchmark.py', date='2026-12-02')
LINEAR = dict(config='x_demo.py', minutes=1.0)
RESULTS = [
    dict(RUN, method='mulan-byol', seed=0, epochs=5, minutes=2.0,
         random_init=56.0, final=78.0, raw_pixels=92.5,
         curve={0: 56.0, 2: 70.0, 5: 78.0},
         evaluations={
             'linear probe': dict(LINEAR, scratch=30.0, pretrained=45.0),
             'fine-tuning': dict(LINEAR, scratch=40.0, pretrained=50.0)}),
    dict(RUN, method='mulan-byol', seed=1, epochs=5, minutes=3.0,
         random_init=58.0, final=76.0, raw_pixels=92.5,
         curve={0: 58.0, 5: 76.0},
         evaluations={
             'linear probe': dict(LINEAR, scratch=34.0, pretrained=45.0)}),
    dict(RUN, method='siameseim', seed=0, epochs=10, minutes=4.0,
         random_init=39.5, final=55.0, raw_pixels=None,
         curve={0: 39.5, 10: 55.0}),
]


def test_table_gives_the_mean_and_std_over_seeds(tmp_path):
    results = RESULTS
    table = benchmark.table(results)
    assert table.splitlines()[0] == (
        '| method | seeds | minutes | kNN random init | kNN final | kNN gain '
        '| raw pixels | linear probe from scratch | linear probe pretrained '
        '| linear probe gain | fine-tuning from scratch | fine-tuning '
        'pretrained | fine-tuning gain | commit |')
    # kNN 56, 58 -> 78, 76: gains 22, 18; linear 30, 34 -> 45, 45;
    # fine-tuning of seed 0 only
    assert ('| mulan-byol | 2 | 2.5 ± 0.7 | 57.0 ± 1.4 | 77.0 ± 1.4 | '
            '20.0 ± 2.8 | 92.5 | 32.0 ± 2.8 | 45.0 ± 0.0 | 13.0 ± 2.8 | '
            '40.0 | 50.0 | 10.0 | `abc1234` |') in table
    assert ('| siameseim | 1 | 4.0 | 39.5 | 55.0 | 15.5 | - | - | - | - | - '
            '| - | - | `abc1234` |') in table
    doc = tmp_path / 'small_scale.md'
    begin, end = benchmark.section_markers('x6')
    assert begin == '<!-- x6:start -->' and end == '<!-- x6:end -->'
    doc.write_text(f'# Title\n\n{begin}\nold\n{end}\nafter\n')
    benchmark.write_doc(str(doc), table, 'x6')
    text = doc.read_text()
    assert 'old' not in text and table in text
    assert text.startswith('# Title') and text.endswith('after\n')
    with pytest.raises(ValueError, match='small-scale-benchmark:start'):
        benchmark.write_doc(str(doc), table)
    png = tmp_path / 'curves.png'
    benchmark.plot(results, str(png))
    assert png.stat().st_size > 1000
    doc.write_text('no section\n')
    with pytest.raises(ValueError, match='small_scale.md'):
        benchmark.write_doc(str(doc), table)


def test_every_method_has_a_linear_probe_and_fine_tuning():
    """On 100 labels, its paper's headline protocol first."""
    methods = {benchmark.method_name(c) for c in benchmark.DEFAULT_CONFIGS}
    assert {'mulan-byol-shared-predictor', 'mulan-byol-global-views'} < \
        methods
    for method in methods:
        evaluations = benchmark.evaluation_of(method)
        assert set(evaluations) == set(benchmark.PROTOCOLS)
        assert next(iter(evaluations)) == (
            'linear probe' if method.startswith('mulan') else 'fine-tuning')
        for protocol, config in evaluations.items():
            assert os.path.isfile(config), config
            cfg = Config.fromfile(config)
            assert cfg.train_dataloader.dataset.num_per_class == 10
            # a linear probe freezes every block, fine-tuning none
            frozen = cfg.model.backbone.get('frozen_stages', -1)
            assert (frozen > 0) == (protocol == 'linear probe'), config


def test_benchmark_command_names_what_differs_from_the_defaults():
    everything = benchmark.benchmark_command(benchmark.DEFAULT_CONFIGS, 1.)
    assert everything == ('python tools/analysis_tools/'
                          'small_scale_benchmark.py')
    one = benchmark.benchmark_command(benchmark.DEMO_CONFIGS[:1], 2.5, [0],
                                      skip_evaluation=True)
    assert one == (everything + ' --epoch-factor 2.5 --seeds 0 '
                   '--skip-evaluation ' +
                   benchmark.DEMO_CONFIGS[0][len(benchmark.REPO) + 1:])
    assert benchmark.benchmark_command(
        benchmark.DEFAULT_CONFIGS, 1., reuse_pretraining=True) == (
            everything + ' --reuse-pretraining')


def test_a_later_run_replaces_its_rows_and_keeps_the_others(tmp_path):
    results_file = tmp_path / 'results.json'
    assert benchmark.load_results(str(results_file)) == []
    results_file.write_text(json.dumps(dict(results=RESULTS)))
    previous = benchmark.load_results(str(results_file))
    assert previous[0]['curve'] == {0: 56.0, 2: 70.0, 5: 78.0}
    rerun = dict(RESULTS[2], commit='def5678', final=60.0,
                 command=RUN['command'] + ' configs/siameseim/x_demo.py')
    conmim = dict(RESULTS[2], method='conmim', commit='def5678',
                  command=rerun['command'])
    seed1 = dict(rerun, seed=1)
    merged = benchmark.merge(previous, [rerun, conmim, seed1])
    assert [(r['method'], r['seed']) for r in merged] == [
        ('conmim', 0), ('mulan-byol', 0), ('mulan-byol', 1),
        ('siameseim', 0), ('siameseim', 1)]
    assert merged[3]['final'] == 60.0 and merged[1] == previous[0]
    assert benchmark.provenance(merged).splitlines() == [
        f"Commit `def5678`, 2026-12-02: `{rerun['command']}`.",
        f"Commit `abc1234`, 2026-12-02: `{RUN['command']}`.",
    ]
    reused = dict(rerun, pretraining=dict(commit='abc1234', date='2026-12-01',
                                          cpu=None))
    assert benchmark.provenance([reused]) == (
        f"Commit `def5678`, 2026-12-02: `{rerun['command']}`; pretrained by "
        'commit `abc1234`, 2026-12-01.')


def test_provenance_names_the_cpu_of_a_run(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nmodel name\t: AMD EPYC 7B13\n'
                       'processor\t: 1\nmodel name\t: AMD EPYC 7B13\n')
    cpu = benchmark.cpu_model(str(cpuinfo))
    assert cpu == f'AMD EPYC 7B13, {os.cpu_count()} cores'
    rows = [dict(RESULTS[0], cpu=cpu), RESULTS[2]]
    assert benchmark.provenance(rows).splitlines() == [
        f"Commit `abc1234`, 2026-12-02, {cpu}: `{RUN['command']}`.",
        f"Commit `abc1234`, 2026-12-02: `{RUN['command']}`.",
    ]


def test_mean_std_is_the_sample_spread():
    assert benchmark.mean_std([3.0]) == '3.0'
    assert benchmark.mean_std([1.0, 2.0, 3.0]) == '2.0 ± 1.0'


def shortened(config, tmp_path, epochs):
    """A config of ``tmp_path`` that inherits ``config`` and trains for
    ``epochs`` epochs."""
    short = tmp_path / f'{epochs}-epochs_{os.path.basename(config)}'
    short.write_text(f"_base_ = '{config}'\n"
                     f'train_cfg = dict(max_epochs={epochs}, '
                     'val_interval=1)\n')
    return str(short)


@pytest.mark.slow
def test_a_seeded_run_trains_exports_and_evaluates_both_ways(
        tmp_path, monkeypatch):
    """The real tool on the SiameseIM demo shortened to one epoch, its
    evaluations to two: kNN before and after, the linear probe and the
    few-label fine-tuning from the exported encoder and from scratch, the
    doc section; then a second run that reuses the pretraining."""
    doc = tmp_path / 'doc.md'
    doc.write_text('{}\n{}\n'.format(*benchmark.section_markers()))
    demo = [c for c in benchmark.DEMO_CONFIGS
            if benchmark.method_name(c) == 'siameseim'][0]
    config = tmp_path / 'siameseim_one-epoch_demo.py'
    config.write_text(
        f"_base_ = '{demo}'\n"
        'param_scheduler = [dict(type="LinearWarmupLR", by_epoch=True, '
        'begin=0, end=1, convert_to_iter_based=True)]\n'
        'train_cfg = dict(max_epochs=1, val_interval=1)\n')
    evaluations = {
        protocol: shortened(path, tmp_path, 2)
        for protocol, path in benchmark.EVALUATIONS['siameseim'].items()}
    monkeypatch.setitem(benchmark.EVALUATIONS, 'siameseim', evaluations)
    work = tmp_path / 'work'
    benchmark.main([str(config), '--seeds', '1', '--work-dir', str(work),
                    '--doc', str(doc)])
    row, = benchmark.load_results(str(work / 'results.json'))
    assert (row['method'], row['seed'], row['epochs']) == ('siameseim', 1, 1)
    assert set(row['curve']) == {0, 1}
    assert set(row['evaluations']) == {'linear probe', 'fine-tuning'}
    run_dir = work / config.stem / 'seed1'
    for protocol, evaluation in row['evaluations'].items():
        assert 0 < evaluation['scratch'] <= 100
        assert 0 < evaluation['pretrained'] <= 100
        name = benchmark.config_name(evaluations[protocol])
        for way, loaded in (('pretrained', True), ('scratch', False)):
            log, = glob.glob(str(run_dir / name / way / '*' / '*.log'))
            log = open(log).read()
            assert ('loaded 52 pretrained tensors' in log) == loaded
            assert re.search(r'randomness = dict\([^)]*seed=1\b', log)
    assert '| siameseim | 1 |' in doc.read_text()

    # A new protocol for the same pretraining: nothing is trained again.
    trainings = sorted(p.name for p in run_dir.glob('2*'))
    monkeypatch.setitem(benchmark.EVALUATIONS, 'siameseim', {
        'linear probe': shortened(evaluations['linear probe'], tmp_path, 1)})
    benchmark.main([str(config), '--seeds', '1', '--work-dir', str(work),
                    '--reuse-pretraining'])
    assert sorted(p.name for p in run_dir.glob('2*')) == trainings
    reused, = benchmark.load_results(str(work / 'results.json'))
    assert reused['curve'] == row['curve']
    assert reused['pretraining'] == {
        key: row[key] for key in ('commit', 'date', 'cpu')}
    assert set(reused['evaluations']) == {'linear probe'}
    # Another schedule, or a seed never trained, is not reused.
    with pytest.raises(ValueError, match='differs from'):
        benchmark.main([str(config), '--seeds', '1', '--work-dir', str(work),
                        '--reuse-pretraining', '--epoch-factor', '2'])
    with pytest.raises(FileNotFoundError, match='no earlier pretraining of '
                       'siameseim with seed 2'):
        benchmark.main([str(config), '--seeds', '2', '--work-dir', str(work),
                        '--reuse-pretraining'])


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
