"""Newcomer items 2 and 3 (issue #33): a misspelt top-level key and a
``data_root`` that the dataset ignores stop the run before any data is
read, with a message that says what to do."""
import pytest
from mmengine.config import Config
from PIL import Image

from helpers import DEMO_PRETRAIN_CONFIG, load_tool
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
