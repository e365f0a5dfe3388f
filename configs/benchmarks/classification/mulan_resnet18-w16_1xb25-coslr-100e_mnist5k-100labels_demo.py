# Few-label fine-tuning of the MULAN _demo encoder on the built-in data: the
# official eval_linear.py's semi-supervised mode (--weights finetune
# --train-percent 1|10) on the linear protocol's demo
# (mulan_resnet18-w16_1xb25-linear-coslr-100e_mnist5k-100labels_demo.py:
# SGD momentum 0.9, cosine per epoch, head normal(0, 0.01), best epoch
# kept), with the encoder trained in train mode at the head's learning
# rate (the paper publishes no settings; measured below) and without the
# optional feature standardisation (--normalize-features): its statistics,
# fitted once before training, go stale as the encoder trains, and a
# random ResNet's (eval mode, never-estimated BatchNorm) are so small that
# the first train-mode features overflow them (loss nan from epoch 1).
#   python tools/model_converters/extract_backbone.py MULAN_DEMO.pth B.pth
#   tools/benchmarks/classification/dist_train.sh THIS_CONFIG B.pth 1
# Without a checkpoint (python tools/train.py THIS_CONFIG) the same run
# starts from a random initialisation: the from-scratch baseline.
_base_ = 'mulan_resnet18-w16_1xb25-linear-coslr-100e_mnist5k-100labels_demo.py'

model = dict(
    backbone=dict(frozen_stages=-1, norm_eval=False),
    head=dict(type='LinearClsHead'))
custom_hooks = []
# lr_backbone = lr_mult x lr_head (0.05) with lr_mult 1, chosen by the pretrained
# encoder's accuracy: MULAN-BYOL demo encoders of seeds 0 / 1, last val
# top-1, pretrained (from scratch): lr_mult 0.1: 73.4 / 70.9 (60.7 /
# 54.1); 0.3: 78.9 / 75.3 (74.7 / 75.4); 1: 77.6 / 77.9 (79.0 / 78.8).
# A ResNet-18 fine-tuned from scratch on 100 digits is strong: at the
# encoder's best lr the pretraining adds nothing here.
