# MULAN's linear protocol (mulan_resnet50_8xb64-linear-coslr-100e_in1k.py:
# frozen encoder in eval mode, features standardised with the val images'
# statistics, SGD, cosine per epoch, best epoch kept) on the built-in data:
# the MULAN _demo encoder (ResNet-18 of width 16, 128-d) on 64-pixel
# digits, 100 labels (10 per class), batch 25, 100 epochs, fp32, lr 0.05.
#   python tools/model_converters/extract_backbone.py MULAN_DEMO.pth B.pth
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG B.pth 1
# Without a checkpoint (python tools/train.py THIS_CONFIG) the probe reads
# the random initialisation: the baseline.
_base_ = [
    'mulan_resnet50_8xb64-linear-coslr-100e_in1k.py',
    '../../_base_/datasets/mnist5k_few_label.py',
]

# ----- size: the encoder of configs/mulan/*_demo.py -----
model = dict(
    backbone=dict(
        depth=18,
        stem_channels=16,
        base_channels=16,
        init_cfg=dict(from_scratch_without_checkpoint=True)),
    head=dict(num_classes=10, in_channels=128))
data_preprocessor = dict(num_classes=10)

# ----- data: 100 labelled digits, the paper's augmentation at 64 pixels -----
train_dataloader = {{_base_.few_label_linear_loader}}
val_dataloader = {{_base_.few_label_val_loader}}
test_dataloader = {{_base_.few_label_test_loader}}
val_evaluator = dict(topk=(1, ))
test_evaluator = val_evaluator

# ----- schedule: 100 epochs of 4 iterations, fp32 -----
# the paper's optimizer in fp32 (bf16 autocast, the CPU form of its AMP, is
# about 10x slower on CPUs without bf16 units; docs/small_scale.md, cause
# 8) at lr 0.05 instead of 0.005: the paper's lr is for 100 ImageNet
# epochs (250,000 steps), and in 400 steps it leaves the probe unfitted.
# MULAN-BYOL demo encoders of seeds 0 / 1, last val top-1, trained ->
# from scratch: lr 0.005: 36.7 / 21.8 -> 24.3 / 23.7; lr 0.05: 50.8 / 35.9
# -> 21.3 / 25.7; lr 0.5: 46.6 / 28.5 -> 20.3 / 23.6.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=0.),
    constructor={{_base_.optim_wrapper.constructor}})
train_cfg = dict(val_interval=10)
default_hooks = dict(logger=dict(interval=10))
auto_scale_lr = dict(base_batch_size=25)
