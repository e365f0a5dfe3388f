# ImageNet-1k linear probe of a MULAN ViT-S/16, the paper's protocol as for
# the ResNet-50 (mulan_resnet50_8xb64-linear-coslr-100e_in1k.py): the
# feature is the cls token of the last block after the final LayerNorm
# (n_last_blocks 1, no pooled patch tokens), 384-d, standardised with the
# val images' statistics. The paper's ViT results (v2) use the **target**
# encoder:
#   python tools/model_converters/extract_backbone.py MULAN.pth B.pth \
#       --branch target
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG B.pth 8
_base_ = 'mulan_resnet50_8xb64-linear-coslr-100e_in1k.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmsiam.StrictPretrainedViT',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        norm_cfg=dict(type='LN', eps=1e-6),
        out_type='cls_token',
        final_norm=True,
        frozen_stages=12,  # every block and the final LayerNorm
        init_cfg=dict(
            type='Pretrained', checkpoint=None, prefix='backbone.')),
    neck=None,
    head=dict(in_channels=384))
