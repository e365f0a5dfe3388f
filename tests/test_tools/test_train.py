"""tools/train.py as a user runs it: flags, outputs, resume, bad inputs."""
import copy
import os
import os.path as osp
import re
import shutil

import pytest
from mmengine.config import Config

from helpers import (DEMO_CONFIG, REPO, TINY_DEMO_OPTIONS, load_tool, run_tool)

train = load_tool('train.py')

TRAIN = osp.join(REPO, 'tools', 'train.py')


def test_resume_flag_forms(tmp_path):
    assert train.parse_args([DEMO_CONFIG]).resume is None
    assert train.parse_args([DEMO_CONFIG, '--resume']).resume == 'auto'
    ckpt = tmp_path / 'epoch_1.pth'
    ckpt.write_bytes(b'')
    args = train.parse_args([DEMO_CONFIG, '--resume', str(ckpt)])
    cfg = train.merge_args(Config.fromfile(DEMO_CONFIG), args)
    assert cfg.resume is True and cfg.load_from == str(ckpt)
    args = train.parse_args([DEMO_CONFIG, '--resume', 'nope.pth'])
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        train.merge_args(Config.fromfile(DEMO_CONFIG), args)


def test_options_are_merged(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = train.parse_args([
        DEMO_CONFIG, '--amp', '--auto-scale-lr', '--local-rank', '1',
        '--launcher', 'pytorch', '--cfg-options', 'train_cfg.max_epochs=7'
    ])
    assert os.environ['LOCAL_RANK'] == '1'
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.merge_from_dict(args.cfg_options)
    cfg = train.merge_args(cfg, args)
    assert cfg.train_cfg.max_epochs == 7
    assert cfg.optim_wrapper.type == 'AnyDeviceAmpOptimWrapper'
    assert cfg.auto_scale_lr.enable is True
    assert cfg.launcher == 'pytorch'
    assert cfg.work_dir == osp.join(
        './work_dirs', osp.splitext(osp.basename(DEMO_CONFIG))[0])
    with pytest.raises(SystemExit):
        train.parse_args([DEMO_CONFIG, '--launcher', 'ssh'])


def test_auto_scale_lr_uses_the_effective_batch_of_accumulation():
    """mmengine scales by world size x batch size; with accumulation the
    base is divided by accumulative_counts, so the ratio is the effective
    batch's."""
    args = train.parse_args([DEMO_CONFIG, '--auto-scale-lr'])
    cfg = Config.fromfile(DEMO_CONFIG)
    base = cfg.auto_scale_lr.base_batch_size
    assert train.merge_args(copy.deepcopy(cfg), args).auto_scale_lr[
        'base_batch_size'] == base
    cfg.optim_wrapper.accumulative_counts = 4
    assert train.merge_args(cfg, args).auto_scale_lr[
        'base_batch_size'] == base / 4


def test_auto_scale_lr_needs_base_batch_size():
    args = train.parse_args([DEMO_CONFIG, '--auto-scale-lr'])
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.pop('auto_scale_lr')
    with pytest.raises(KeyError, match='base_batch_size'):
        train.merge_args(cfg, args)


def _losses(log_text):
    return [float(x) for x in re.findall(r'\bloss: ([0-9.]+)', log_text)]


@pytest.mark.slow
def test_demo_trains_and_reports_outputs(demo_run):
    work_dir, stdout = demo_run
    assert f'Checkpoint: {work_dir / "epoch_2.pth"}' in stdout
    log = re.search(r'Log: (\S+\.log)', stdout).group(1)
    assert osp.isfile(log)
    assert len(_losses(open(log).read())) == 8  # 2 epochs x 4 iterations
    # A CPU run (glibc): malloc keeps what a step frees for the next one.
    assert 'malloc keeps freed memory between steps' in stdout
    assert {'epoch_1.pth', 'epoch_2.pth'} <= set(os.listdir(work_dir))


@pytest.mark.slow
def test_console_shows_the_run_not_the_whole_config(demo_run):
    """Issue #33 item 13: 860 lines before the first training line. The
    environment, config, hook order and parameter settings are one line
    each on the console and whole in the log file."""
    stdout = demo_run[1]
    log = re.search(r'Log: (\S+\.log)', stdout).group(1)
    before_training = stdout[:stdout.index('Epoch(train)')].splitlines()
    assert len(before_training) < 40, '\n'.join(before_training)
    for name in ('System environment', 'Config', 'Hook order'):
        assert re.search(rf'{name}: \d+ lines, in {re.escape(log)}', stdout)
    assert re.search(r'paramwise_options of \d+ parameter tensors '
                     r'\(weight_decay=0.0: \d+\)', stdout)
    log_text = open(log).read()
    assert 'Config:\n' in log_text and 'paramwise_options -- ' in log_text


def _knn_top1(log_text):
    """{epoch: kNN top-1} of the validation lines."""
    return {
        int(epoch): float(value) for epoch, value in re.findall(
            r'Epoch\(val\) \[(\d+)\]\S*\s+knn/top1: ([0-9.]+)', log_text)
    }


@pytest.mark.slow
def test_demo_logs_knn_throughput_and_eta(demo_run):
    stdout = demo_run[1]
    # Before training (epoch 0) and after each of the 2 epochs.
    assert sorted(_knn_top1(stdout)) == [0, 1, 2]
    assert all(0 <= v <= 100 for v in _knn_top1(stdout).values())
    assert 'kNN memory bank: 1/1 batches' in stdout
    # The raw-pixel reference once, and the closing line of the run.
    assert stdout.count('kNN reference on raw pixels') == 1
    top1 = _knn_top1(stdout)
    raw = re.search(r'kNN reference on raw pixels .*knn/top1: ([0-9.]+)',
                    stdout).group(1)
    assert (f'kNN top-1: random init {top1[0]:.1f} -> trained '
            f'{top1[2]:.1f} (raw pixels {float(raw):.1f})') in stdout
    train_lines = [line for line in stdout.splitlines()
                   if 'Epoch(train)' in line]
    assert train_lines and all(
        re.search(r'eta: \d+:\d\d:\d\d', line) and re.search(
            r'imgs_per_sec: [0-9.]+', line) for line in train_lines)


@pytest.mark.slow
def test_knn_monitor_leaves_training_unchanged(demo_run, tmp_path):
    """The same run without validation has the same losses."""
    proc = run_tool([TRAIN, DEMO_CONFIG, '--work-dir', tmp_path,
                     '--no-validate', '--cfg-options'] + TINY_DEMO_OPTIONS)
    assert 'knn/top1' not in proc.stdout
    assert _losses(proc.stdout) == _losses(demo_run[1])
    assert len(_losses(proc.stdout)) == 8


@pytest.mark.slow
def test_compile_flag_compiles_the_parts_with_the_same_losses(
        demo_run, tmp_path):
    proc = run_tool([TRAIN, DEMO_CONFIG, '--work-dir', tmp_path, '--compile',
                     '--no-validate', '--cfg-options'] + TINY_DEMO_OPTIONS)
    assert ('torch.compile: backbone, neck, head, target.module.0, '
            'target.module.1') in proc.stdout
    assert _losses(proc.stdout) == pytest.approx(_losses(demo_run[1]),
                                                 rel=1e-3)
    assert len(_losses(proc.stdout)) == 8


@pytest.mark.slow
def test_attention_kernel_is_measured_or_forced(demo_run, tmp_path,
                                                monkeypatch):
    """By default every attention input signature is timed once, and the
    choice logged; the config key forces one kernel, with the losses of
    the other (the suite's runs force 'sdpa')."""
    monkeypatch.setenv('MMSIAM_ATTENTION_KERNEL', 'auto')
    measured = run_tool([TRAIN, DEMO_CONFIG, '--work-dir', tmp_path / 'auto',
                         '--no-validate', '--cfg-options']
                        + TINY_DEMO_OPTIONS)
    assert ('attention kernel: the fastest of sdpa, explicit, measured per '
            'input') in measured.stdout
    choices = re.findall(r'attention kernel for cpu float32 q .*?, '
                         r'(forward|forward \+ backward): (?:sdpa|explicit) '
                         r'\(sdpa [0-9.]+ ms, explicit [0-9.]+ ms',
                         measured.stdout)
    # The online encoder and the predictor (trained), the EMA target (not).
    assert choices.count('forward + backward') >= 2
    assert 'forward' in choices
    forced = run_tool([TRAIN, DEMO_CONFIG, '--work-dir', tmp_path / 'forced',
                       '--no-validate', '--cfg-options', *TINY_DEMO_OPTIONS,
                       'attention_kernel=explicit'])
    assert 'attention kernel: explicit (forced by attention_kernel)' in \
        forced.stdout
    assert 'attention kernel for' not in forced.stdout
    for proc in (measured, forced):
        assert _losses(proc.stdout) == pytest.approx(_losses(demo_run[1]),
                                                     rel=1e-3)


@pytest.mark.slow
def test_resume_auto_continues(demo_run, tmp_path):
    work_dir = tmp_path / 'work_dir'
    shutil.copytree(demo_run[0], work_dir)
    options = [o for o in TINY_DEMO_OPTIONS if 'max_epochs' not in o]
    proc = run_tool([
        TRAIN, DEMO_CONFIG, '--work-dir', work_dir, '--resume',
        '--cfg-options', 'train_cfg.max_epochs=3'
    ] + options)
    assert 'resumed epoch: 2, iter: 8' in proc.stdout
    assert 'Epoch(train) [3][4/4]' in proc.stdout
    assert 'Epoch(train) [1]' not in proc.stdout
    assert (work_dir / 'epoch_3.pth').is_file()
    # No second evaluation "before training" on resume, no second
    # raw-pixel pass; the closing line still starts at the random init.
    assert sorted(_knn_top1(proc.stdout)) == [3]
    assert 'kNN reference on raw pixels' not in proc.stdout
    start = _knn_top1(demo_run[1])[0]
    assert re.search(rf'kNN top-1: random init {start:.1f} -> trained '
                     rf'{_knn_top1(proc.stdout)[3]:.1f} \(raw pixels ',
                     proc.stdout)


@pytest.mark.slow
def test_fresh_run_never_overwrites_checkpoints(demo_run):
    work_dir = demo_run[0]
    before = (work_dir / 'epoch_2.pth').stat().st_mtime_ns
    proc = run_tool([TRAIN, DEMO_CONFIG, '--work-dir', work_dir,
                     '--cfg-options'] + TINY_DEMO_OPTIONS, check=False)
    assert proc.returncode != 0
    assert 'already holds checkpoints' in proc.stdout
    assert (work_dir / 'epoch_2.pth').stat().st_mtime_ns == before


@pytest.mark.slow
def test_misspelt_component_key_is_named(tmp_path):
    proc = run_tool([
        TRAIN, DEMO_CONFIG, '--work-dir', tmp_path, '--cfg-options',
        'model.backbone.drop_path_rat=0.1'
    ], check=False)
    assert proc.returncode != 0
    assert ('model.backbone: SiameseIMViT has no argument "drop_path_rat"; '
            'did you mean "drop_path_rate"?') in proc.stdout
    assert not list(tmp_path.glob('*/*.log'))  # stopped before the runner


@pytest.mark.slow
def test_checkpoint_of_another_model_is_refused(conmim_run, tmp_path):
    """--resume (and load_from) with a ConMIM checkpoint in the SiameseIM
    config: mmengine would load what fits and warn; this names the keys."""
    ckpt = conmim_run[0] / 'epoch_2.pth'
    proc = run_tool([TRAIN, DEMO_CONFIG, '--work-dir', tmp_path / 'wd',
                     '--resume', ckpt, '--cfg-options'] + TINY_DEMO_OPTIONS,
                    check=False)
    assert proc.returncode != 0
    assert f'{ckpt} does not fit SiameseIM of this config: missing: ' \
        in proc.stdout
    assert 'unexpected: ' in proc.stdout
    assert not list((tmp_path / 'wd').glob('*.pth'))


def _image_folder_config(tmp_path, data_root):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.train_dataloader.dataset = dict(
        type='SeededDataset',
        dataset=dict(
            type='CustomDataset',
            data_root=str(data_root),
            with_label=False,
            pipeline=[dict(type='LoadImageFromFile')] + cfg.train_pipeline))
    cfg.train_dataloader.update(
        batch_size=2, num_workers=0, persistent_workers=False)
    path = tmp_path / 'image_folder.py'
    cfg.dump(str(path))
    return path


@pytest.mark.slow
def test_missing_data_root_is_named(tmp_path):
    missing = tmp_path / 'no_such_folder'
    config = _image_folder_config(tmp_path, missing)
    proc = run_tool([TRAIN, config, '--work-dir', tmp_path / 'wd'],
                    check=False)
    assert proc.returncode != 0
    assert 'train_dataloader.dataset.dataset.data_root' in proc.stdout
    assert str(missing) in proc.stdout


@pytest.mark.slow
def test_unreadable_image_is_named(tmp_path):
    from PIL import Image
    folder = tmp_path / 'images'
    folder.mkdir()
    for i in range(3):
        Image.new('RGB', (40, 40), (i * 60, 0, 0)).save(folder / f'{i}.jpg')
    (folder / 'broken.jpg').write_bytes(b'\xff\xd8\xff not a jpeg')
    config = _image_folder_config(tmp_path, folder)
    proc = run_tool([TRAIN, config, '--work-dir', tmp_path / 'wd'],
                    check=False)
    assert proc.returncode != 0
    assert str(folder / 'broken.jpg') in proc.stdout
