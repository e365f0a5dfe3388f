# Linear probe of the ConMIM _demo teacher on the built-in data. ConMIM
# publishes no linear protocol (only fine-tuning; conmim.md), so this is
# the MAE-style probe of SiameseIM's demo
# (siameseim_vit-tiny-p8_1xb25-linear-coslr-90e_mnist5k-100labels_demo.py:
# frozen encoder, mean of the patch tokens -> frozen LayerNorm ->
# BatchNorm1d without affine -> linear head, LARS lr 10, 10 warm-up epochs
# then cosine, 90 epochs, crop and flip, 100 labels, batch 25, fp32) on the
# encoder of ConMIM's fine-tuning demo
# (conmim_vit-tiny-p8_1xb25-coslr-100e_mnist5k-100labels_demo.py: BEiT ViT
# with one relative position bias table per block, layer scale; no drop
# path, which a frozen encoder never uses).
# Measured with the ConMIM demo teacher of seed 0 (last val top-1 after 90
# epochs, trained / from scratch): LARS lr 1: 10.3 / 12.0; 10: 12.9 /
# 14.6; 100: 16.2 / 20.4. Near chance at every lr, as its frozen kNN on
# the same 100 labels (18.7 / 21.2): SiameseIM's lr 10 is kept.
#   python tools/model_converters/extract_backbone.py CONMIM_DEMO.pth B.pth
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG B.pth 1
# Without a checkpoint (python tools/train.py THIS_CONFIG) the probe reads
# the random initialisation: the baseline.
_base_ = 'siameseim_vit-tiny-p8_1xb25-linear-coslr-90e_mnist5k-100labels_demo.py'

# ----- size: the encoder of configs/conmim/*_demo.py -----
embed_dims = 96
num_layers = 4
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmsiam.StrictPretrainedBEiTViT',
        arch=dict(
            embed_dims=embed_dims,
            num_layers=num_layers,
            num_heads=3,
            feedforward_channels=4 * embed_dims),
        img_size={{_base_.model.backbone.img_size}},
        patch_size=8,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        out_type='avg_featmap',
        final_norm=False,
        frozen_stages=num_layers,  # all blocks, and the pooled-feature norm
        init_cfg={{_base_.model.backbone.init_cfg}}),
    neck=dict(input_features=embed_dims),
    head=dict(in_channels=embed_dims))
