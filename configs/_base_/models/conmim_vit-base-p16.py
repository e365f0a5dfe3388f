# ConMIM ViT-B/16: BEiT-v1 student encoder (shared relative position bias,
# layer scale 0.1, mask token), 3-layer projector on every token to 256-d,
# patch InfoNCE (T = 0.1) at masked positions against an EMA teacher
# (0.996 -> 1, updated after every optimizer step: ConMIM's target_update).
model = dict(
    type='ConMIM',
    base_momentum=0.004,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ConMIMViT',
        arch='base',
        img_size=224,
        patch_size=16,
        layer_scale_init_value=0.1),
    neck=dict(
        type='TokenProjector',
        in_channels=768,
        hid_channels=4096,
        out_channels=256,
        num_layers=3),
    head=dict(
        type='MIMHead', loss=dict(type='PatchContrastLoss', temperature=0.1)))
