"""Paths of the repository and of the configs the tests run."""
import glob
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# The SiameseIM _demo config.
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'siameseim',
    'siameseim_vit-tiny-p8_1xb64-coslr-10e_mnist5k_demo.py')
# The ConMIM _demo config.
CONMIM_DEMO_CONFIG = osp.join(
    REPO, 'configs', 'conmim',
    'conmim_vit-tiny-p8_1xb64-coslr-4e_mnist5k_demo.py')
# `make demo`'s config (MULAN-MoCo v3 on the built-in data).
DEMO_PRETRAIN_CONFIG = osp.join(REPO, 'configs', 'demo', 'demo_pretrain.py')
# The MULAN-BYOL _demo config (the MoCo v3 demo inherits it).
MULAN_DEMO_CONFIG = osp.join(
    REPO, 'configs', 'mulan',
    'mulan-byol_resnet18-w16_1xb64-coslr-5e_mnist5k_demo.py')


def demo_config(method):
    """The one ``configs/*/*_demo.py`` of ``method`` ('siameseim',
    'mulan-simsiam'...: the file name up to its first '_'), whatever
    schedule its name states."""
    configs = [
        path for path in glob.glob(
            osp.join(REPO, 'configs', '*', '*_demo.py'))
        if osp.basename(path).split('_')[0] == method
    ]
    assert len(configs) == 1, (method, configs)
    return configs[0]


# Overrides that shrink the demo to a few iterations for tests.
TINY_DEMO_OPTIONS = [
    'train_dataloader.dataset.dataset.indices=64',
    'train_dataloader.batch_size=16',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=0',
    'train_cfg.max_epochs=2', 'train_cfg.val_interval=1',
    # Every iteration's own loss in the log and scalars.json.
    'default_hooks.logger.interval=1', 'log_processor.window_size=1',
    # kNN monitor: 8 train digits per class as the bank, 4 per class queried,
    # in the main process.
    'val_cfg.bank_dataloader.dataset.num_per_class=8',
    'val_dataloader.dataset.num_per_class=4',
    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=0',
    'val_cfg.bank_dataloader.num_workers=0',
    'val_cfg.bank_dataloader.persistent_workers=0'
]

# tools/dist_train.sh, and the tiny demo options of its 2-process runs: 128
# digits, and 2 persistent data-loader workers per process as in the real
# configs.
DIST_TRAIN = osp.join(REPO, 'tools', 'dist_train.sh')
DIST_OPTIONS = TINY_DEMO_OPTIONS + [
    'train_dataloader.dataset.dataset.indices=128',
    'train_dataloader.num_workers=2', 'train_dataloader.persistent_workers=1'
]
