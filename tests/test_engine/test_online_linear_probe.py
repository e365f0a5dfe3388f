"""The online linear probe (issue #34 item 3): it learns on the labels of
the pretraining batches, is scored beside the kNN, leaves the pretraining
bit-identical, is saved outside the model and is off without labels."""
import json

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from helpers import MULAN_DEMO_CONFIG, PHOTOS, write_photo_folder
from mmsiam.config_checks import fit_schedulers_to_run
from mmsiam.engine.hooks import OnlineLinearProbeHook
from mmsiam.engine.hooks.online_linear_probe_hook import PROBE_KEY


def tiny_run(tmp_path, probe=True, **dataset):
    """The MULAN-BYOL demo for 1 epoch of 32 digits (2 iterations),
    validated after it, in-process."""
    cfg = Config.fromfile(MULAN_DEMO_CONFIG)
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.train_dataloader.update(batch_size=16, num_workers=0,
                                persistent_workers=False)
    cfg.train_dataloader.dataset.dataset.update(indices=32, **dataset)
    for loader in (cfg.val_dataloader, cfg.val_cfg.bank_dataloader):
        loader.update(num_workers=0, persistent_workers=False)
    cfg.val_dataloader.dataset.num_per_class = 5
    cfg.val_cfg.bank_dataloader.dataset.num_per_class = 10
    cfg.val_cfg.update(raw_pixels=False, start_bn_batches=1)
    if not probe:
        cfg.val_cfg.pop('online_probe')
    cfg.default_hooks.logger.interval = 1
    fit_schedulers_to_run(cfg)  # as tools/train.py does
    runner = Runner.from_cfg(cfg)
    runner.train()
    return runner


def scalars(work_dir):
    [path] = work_dir.glob('*/vis_data/scalars.json')
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_probe_is_scored_and_leaves_pretraining_unchanged(tmp_path):
    with_probe = tiny_run(tmp_path / 'probe')
    without = tiny_run(tmp_path / 'plain', probe=False)
    # Bit-identical pretraining: weights, BatchNorm statistics, EMA target.
    a, b = with_probe.model.state_dict(), without.model.state_dict()
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    logged = scalars(tmp_path / 'probe')
    probe = [r['probe/top1'] for r in logged if 'probe/top1' in r]
    assert len(probe) == 1 and 0 <= probe[0] <= 100
    assert not any('probe/top1' in r for r in scalars(tmp_path / 'plain'))
    # Saved for a resume, outside the model's weights (so not exported).
    checkpoint = torch.load(tmp_path / 'probe' / 'epoch_1.pth',
                            weights_only=True)
    assert set(checkpoint[PROBE_KEY]) == {'state_dict', 'optimizer'}
    assert not any('probe' in key for key in checkpoint['state_dict'])
    # A resumed run continues the probe it saved.
    [trained] = [h for h in with_probe.hooks
                 if isinstance(h, OnlineLinearProbeHook)]
    resumed = OnlineLinearProbeHook()
    resumed.after_load_checkpoint(with_probe, checkpoint)
    resumed.build(trained.probe.fc.in_features, with_probe, 'cpu')
    for key, value in trained.probe.state_dict().items():
        assert torch.equal(resumed.probe.state_dict()[key], value), key
    assert resumed.optimizer.state_dict()['state'].keys() == {0, 1}


def test_without_labels_the_probe_is_off_with_one_line(tmp_path, capsys):
    photos = [(f'{i}_{rel.split("/")[-1]}', name)
              for i, (rel, name) in enumerate(PHOTOS * 4)]
    folder = write_photo_folder(tmp_path / 'photos', photos, ())
    runner = tiny_run(tmp_path / 'run', type='UnlabeledImageFolder',
                      data_root=str(folder))
    assert 'the training data have no labels' in capsys.readouterr().out
    assert not any('probe/top1' in r for r in scalars(tmp_path / 'run'))
    assert runner.iter >= 1
