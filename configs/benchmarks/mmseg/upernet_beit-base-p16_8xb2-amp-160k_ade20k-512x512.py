# ADE20k UperNet with a BEiT-style ViT-B/16 (ConMIM), as BEiT fine-tunes
# it: one relative position bias table per block (the 14x14 pretraining
# table resized to the 32x32 grid of 512-pixel crops when loaded), no
# absolute position embedding, layer scale from the checkpoint, drop path
# 0.1, features of blocks 3, 5, 7, 11; AdamW lr 7e-4 (0.9, 0.999), wd 0.05
# (none on 1-D parameters, the cls token and the relative position bias
# tables), layer decay 0.65; linear warm-up 1500 iterations, then poly to
# 160k at batch 16 = 8 GPUs x 2; AMP; slide test 512 / 341. The rest is the
# ViT-B UperNet benchmark (mmseg's MAE recipe).
#
#   python tools/model_converters/extract_backbone.py CONMIM.pth BACKBONE.pth
#   tools/benchmarks/mmseg/dist_train.sh THIS_CONFIG BACKBONE.pth 8
_base_ = 'upernet_vit-base-p16_8xb2-amp-160k_ade20k-512x512.py'

pretrained = None  # set by tools/benchmarks/mmseg/dist_train.sh
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmsiam.StrictPretrainedBEiTViT',
        arch='base',
        img_size=512,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,
        out_type='featmap',
        out_indices=(3, 5, 7, 11),
        final_norm=False,
        init_cfg=dict(
            type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

optim_wrapper = dict(
    optimizer=dict(lr=7e-4),
    paramwise_cfg=dict(
        custom_keys={
            'relative_position_bias_table': dict(decay_mult=0.)
        }))
