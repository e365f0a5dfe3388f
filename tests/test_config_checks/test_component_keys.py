"""Unknown keys of mmsiam components in the real configs are named, with
the closest accepted key, before anything is built."""
import os.path as osp

import pytest
from mmengine.config import Config

from helpers import CONMIM_DEMO_CONFIG, DEMO_CONFIG, MULAN_DEMO_CONFIG, REPO
from mmsiam.config_checks import check_config
from mmsiam.config_checks.component_keys import accepted_keys
from mmsiam.config_checks import ConfigKeyError

VITDET_COCO = osp.join(
    REPO, 'configs', 'benchmarks', 'mmdet',
    'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py')


@pytest.mark.parametrize('config, option, message', [
    (DEMO_CONFIG, {'model.base_momentun': 0.9},
     'model: SiameseIM has no argument "base_momentun"; did you mean '
     '"base_momentum"? It takes: backbone, base_momentum, copy_buffers, '
     'data_preprocessor, end_momentum, head, init_cfg, neck, '
     'target_update'),
    (DEMO_CONFIG, {'default_hooks.non_finite_guard.max_skip': 3},
     'default_hooks.non_finite_guard: NonFiniteGuardHook has no argument '
     '"max_skip"; did you mean "max_skips"?'),
    (CONMIM_DEMO_CONFIG, {'model.head.loss.temperatur': 0.1},
     'model.head.loss: PatchContrastLoss has no argument "temperatur"; did '
     'you mean "temperature"?'),
    (MULAN_DEMO_CONFIG, {'model.batch_view': True},
     'model: MULAN has no argument "batch_view"; did you mean "batch_views"?'),
    # A dataset key put on the SeededDataset wrapper is misplaced.
    (DEMO_CONFIG, {'train_dataloader.dataset.indices': 64},
     'train_dataloader.dataset: SeededDataset has no argument "indices"; '
     'it belongs to train_dataloader.dataset.dataset.indices'),
    # mmsiam components in an mmdet config (scope prefix 'mmsiam.').
    (VITDET_COCO, {'model.backbone.drop_path_rat': 0.1},
     'model.backbone: mmsiam.ViTDet has no argument "drop_path_rat"; did '
     'you mean "drop_path_rate"?'),
], ids=['siameseim', 'hook', 'conmim-loss', 'mulan', 'misplaced', 'vitdet'])
def test_unknown_component_key_is_named(config, option, message):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(option)
    with pytest.raises(ConfigKeyError) as err:
        check_config(cfg)
    assert message in str(err.value)
    assert f'(file: {config})' in str(err.value)


def test_kwargs_are_followed_to_the_base_class():
    from mmsiam.models.backbones import SiameseIMViT, StrictPretrainedViT
    assert {'arch', 'patch_size', 'init_cfg'} <= accepted_keys(SiameseIMViT)
    # Its own argument, then mmpretrain's VisionTransformer's.
    assert {'freeze_pos_embed', 'arch', 'out_type'} <= accepted_keys(
        StrictPretrainedViT)
    assert 'mask_ratio' not in accepted_keys(StrictPretrainedViT)
