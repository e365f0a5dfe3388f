# Few-label fine-tuning of the ConMIM _demo teacher on the built-in data:
# the paper's fine-tuning recipe (conmim_vit-base-p16_8xb128-coslr-100e_
# in1k.py: BEiT ViT with one relative position bias table per block, mean
# of the patch tokens -> LayerNorm -> linear head, drop path 0.1, layer
# scale 0.1, AdamW lr 4e-3 with layer decay 0.65, 20 % of the epochs
# warm-up then cosine, RandAugment, random erasing, mixup, cutmix, label
# smoothing) shrunk to the demo's 4-block 96-d ViT on 64-pixel digits, 100
# labels (10 per class), batch 25, 100 epochs, fp32.
#   python tools/model_converters/extract_backbone.py CONMIM_DEMO.pth B.pth
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG B.pth 1
# Without a checkpoint (python tools/train.py THIS_CONFIG) the same run
# starts from a random initialisation: the from-scratch baseline.
_base_ = [
    'conmim_vit-base-p16_8xb128-coslr-100e_in1k.py',
    '../../_base_/datasets/mnist5k_few_label.py',
]

# ----- size: the encoder of configs/conmim/*_demo.py -----
embed_dims = 96
model = dict(
    backbone=dict(
        arch=dict(
            _delete_=True,
            embed_dims=embed_dims,
            num_layers=4,
            num_heads=3,
            feedforward_channels=4 * embed_dims),
        img_size={{_base_.image_size}},
        patch_size=8,
        init_cfg=dict(from_scratch_without_checkpoint=True)),
    head=dict(num_classes=10, in_channels=embed_dims))
data_preprocessor = dict(num_classes=10)

# ----- data: 100 labelled digits, the paper's augmentation at 64 pixels -----
train_dataloader = {{_base_.few_label_finetune_loader}}
val_dataloader = {{_base_.few_label_val_loader}}
test_dataloader = {{_base_.few_label_test_loader}}
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator

# ----- schedule: 100 epochs of 4 iterations (20 warm-up), fp32 -----
# the paper's optimizer at its lr (4e-3, not scaled with the batch) in
# fp32: bf16 autocast, the CPU form of its AMP, slows tiny ViTs
# (docs/small_scale.md, cause 8)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor={{_base_.optim_wrapper.constructor}},
    optimizer={{_base_.optim_wrapper.optimizer}},
    paramwise_cfg={{_base_.optim_wrapper.paramwise_cfg}})
max_epochs = 100
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-9,
        by_epoch=True,
        begin=0,
        end=max_epochs // 5,
        convert_to_iter_based=True),
    dict(
        type='mmsiam.LayerwiseCosineAnnealingLR',
        eta_min=1e-6,
        by_epoch=True,
        begin=max_epochs // 5,
        end=max_epochs,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs // 10)
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(
        interval=max_epochs // 10, max_keep_ckpts=1))
auto_scale_lr = dict(base_batch_size=25)
