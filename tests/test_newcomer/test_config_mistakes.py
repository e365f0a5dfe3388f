"""Newcomer items 2 and 3 (issue #33): a misspelt top-level key and a
``data_root`` that the dataset ignores stop the run before any data is
read, with a message that says what to do."""
import pytest
from mmengine.config import Config
from PIL import Image

from helpers import DEMO_PRETRAIN_CONFIG, DIST_TRAIN, load_tool, run_tool
from mmsiam.config_checks import check_config
from mmsiam.config_checks.errors import ConfigKeyError

train = load_tool('train.py')


def checked(config, options=()):
    """The config as tools/train.py prepares it, through its checks."""
    args = train.parse_args([config, '--cfg-options', *options]
                            if options else [config])
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    check_config(train.merge_args(cfg, args))


@pytest.mark.parametrize('option, meant', [
    ('train_dataloder.batch_size=8', 'train_dataloader'),
    ('param_schedular=[]', 'param_scheduler'),
    ('val_evalutor.type=KNNAccuracy', 'val_evaluator'),
])
def test_a_misspelt_key_on_the_command_line_is_named(option, meant):
    """`--cfg-options train_dataloder.batch_size=8` trained a whole run at
    batch 64."""
    with pytest.raises(ConfigKeyError, match=f'did you mean "{meant}"'):
        checked(DEMO_PRETRAIN_CONFIG, [option])


def test_a_misspelt_key_in_a_config_file_is_named(tmp_path):
    config = tmp_path / 'my_demo.py'
    config.write_text(f"_base_ = '{DEMO_PRETRAIN_CONFIG}'\n"
                      'train_dataloder = dict(batch_size=8)\n')
    with pytest.raises(ConfigKeyError,
                       match=f'did you mean "train_dataloader".*{config}'):
        checked(str(config))


def test_data_root_on_the_built_in_digits_is_an_error(tmp_path):
    """Setting data_root without the dataset type trained on MNIST; with
    the type as well the config passes."""
    Image.new('RGB', (32, 32)).save(tmp_path / 'photo.jpg')
    option = f'train_dataloader.dataset.dataset.data_root={tmp_path}'
    with pytest.raises(ConfigKeyError,
                       match='MNIST5k is built in and reads no files.*'
                       'type=UnlabeledImageFolder'):
        checked(DEMO_PRETRAIN_CONFIG, [option])
    checked(DEMO_PRETRAIN_CONFIG, [
        option, 'train_dataloader.dataset.dataset.type=UnlabeledImageFolder'
    ])


def test_a_type_set_on_a_dataset_wrapper_points_to_the_wrapped_one(tmp_path):
    """Issue #33 item 13: the type set on the wrapper gave "did you mean
    data_root", pointing the wrong way."""
    Image.new('RGB', (32, 32)).save(tmp_path / 'photo.jpg')
    with pytest.raises(
            ConfigKeyError,
            match=r'train_dataloader.dataset wraps the dataset '
            r'train_dataloader.dataset.dataset \(MNIST5k\). To use '
            r'UnlabeledImageFolder, set '
            r'train_dataloader.dataset.dataset.type=UnlabeledImageFolder'):
        checked(DEMO_PRETRAIN_CONFIG, [
            'train_dataloader.dataset.type=UnlabeledImageFolder',
            f'train_dataloader.dataset.data_root={tmp_path}'
        ])


@pytest.mark.slow
def test_a_two_process_error_is_in_torchruns_root_cause(tmp_path):
    """Issue #33 item 13: the error sat 40 lines above torchrun's empty
    "Root Cause" block; tools/train.py records it for torchrun."""
    proc = run_tool([
        DIST_TRAIN, DEMO_PRETRAIN_CONFIG, 2, '--work-dir', tmp_path,
        '--cfg-options', 'train_dataloder.batch_size=8'
    ], check=False)
    assert proc.returncode != 0
    root_cause = proc.stdout[proc.stdout.index('Root Cause'):]
    assert 'did you mean "train_dataloader"?' in root_cause
