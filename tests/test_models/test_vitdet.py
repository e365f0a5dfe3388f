"""ViTDet pieces: windows, relative positions, SimpleFPN strides and the
layer-wise lr decay of a whole detector."""
import pytest
import torch
from mmengine import DefaultScope
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from helpers import REPO
from mmsiam.models.backbones import ViTDet
from mmsiam.models.necks import SimpleFPN
from mmsiam.models.layers import (RelPosAttention, window_partition,
                                  window_unpartition)
from mmsiam.models.layers.window_attention import relative_table

COCO = (f'{REPO}/configs/benchmarks/mmdet/'
        'mask-rcnn_vit-base-p16-vitdet_8xb8-amp-lsj-100e_coco.py')
TINY = dict(embed_dims=32, num_layers=4, num_heads=2, feedforward_channels=64)


def test_window_partition_round_trip_with_padding():
    x = torch.randn(2, 10, 13, 8)
    windows, padded = window_partition(x, 4)
    assert windows.shape == (2 * 3 * 4, 4, 4, 8) and padded == (12, 16)
    assert torch.equal(window_unpartition(windows, 4, padded, (10, 13)), x)


def test_relative_table_indexes_offsets():
    table = torch.arange(7.)[:, None].expand(7, 3)  # offsets -3..3
    rel = relative_table(4, table)
    assert rel.shape == (4, 4, 3)
    assert rel[0, 3, 0] == 0 and rel[3, 0, 0] == 6 and rel[2, 2, 0] == 3


def test_zero_rel_pos_is_plain_attention():
    attn = RelPosAttention(16, 2, grid_size=5, use_rel_pos=True)
    x = torch.randn(1, 5, 5, 16)
    plain = RelPosAttention(16, 2, grid_size=5, use_rel_pos=False)
    plain.load_state_dict(attn.state_dict(), strict=False)
    assert torch.allclose(attn(x), plain(x), atol=1e-6)


def test_backbone_and_pyramid_shapes():
    backbone = ViTDet(arch=TINY, img_size=64, patch_size=16,
                      pretrain_img_size=32, window_size=2,
                      window_block_indexes=(0, 2))
    backbone.init_weights()
    feature = backbone(torch.randn(1, 3, 64, 96))
    assert feature[0].shape == (1, 32, 4, 6)  # stride 16, any aspect
    fpn = SimpleFPN(32, [8, 16, 32, 32], 16, num_outs=5,
                    norm_cfg=dict(type='mmpretrain.LN2d', eps=1e-6))
    outs = fpn(feature)
    assert [o.shape[-2:] for o in outs] == [(16, 24), (8, 12), (4, 6),
                                            (2, 3), (1, 2)]
    with pytest.raises(ValueError, match='in_channels'):
        SimpleFPN(32, [8, 16, 32, 32], 16, 5, scale_factors=(2, 1, .5, .25))


def test_layer_decay_of_the_coco_detector():
    cfg = Config.fromfile(COCO)
    cfg.model.backbone.arch = TINY
    cfg.model.backbone.init_cfg = None
    cfg.model.neck.update(backbone_channel=32, in_channels=[8, 16, 32, 32])
    import mmdet.registry
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = mmdet.registry.MODELS.build(cfg.model)
        cfg.optim_wrapper.type = 'OptimWrapper'
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    groups = {g['param_name']: g for g in wrapper.optimizer.param_groups}
    lr = cfg.optim_wrapper.optimizer.lr
    # 4 blocks: ids 0 (embeddings) .. 5 (outside the backbone).
    assert groups['backbone.patch_embed.projection.weight']['lr'] == \
        pytest.approx(lr * 0.7**5)
    assert groups['backbone.layers.2.attn.qkv.weight']['lr'] == \
        pytest.approx(lr * 0.7**2)
    assert groups['neck.lateral_convs.0.conv.weight']['lr'] == \
        pytest.approx(lr)
    assert groups['backbone.pos_embed']['weight_decay'] == 0
    assert groups['backbone.layers.0.ln1.weight']['weight_decay'] == 0
    assert groups['backbone.layers.0.attn.qkv.weight']['weight_decay'] == \
        pytest.approx(0.1)


def test_strict_pretrained_vit_resizes_and_refuses(tmp_path):
    from mmsiam.models.backbones import StrictPretrainedViT
    source = StrictPretrainedViT(arch=TINY, img_size=32, patch_size=16)
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    good, bad = tmp_path / 'good.pth', tmp_path / 'bad.pth'
    torch.save({'state_dict': state}, good)
    del state['backbone.layers.3.ffn.layers.1.weight']
    torch.save({'state_dict': state}, bad)

    def build(path):
        return StrictPretrainedViT(
            arch=TINY, img_size=64, patch_size=16, out_type='featmap',
            init_cfg=dict(type='Pretrained', checkpoint=str(path),
                          prefix='backbone.'))

    model = build(good)
    model.init_weights()  # 2x2 grid embedding resized to 4x4
    assert torch.equal(model.layers[3].ffn.layers[1].weight,
                       source.layers[3].ffn.layers[1].weight)
    assert model.pos_embed.shape[1] == 1 + 16
    with pytest.raises(KeyError, match=r'layers\.3\.ffn\.layers\.1\.weight'):
        build(bad).init_weights()
