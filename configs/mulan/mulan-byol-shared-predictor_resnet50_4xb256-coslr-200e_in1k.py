# Ablation: MULAN-BYOL on ResNet-50 with one predictor shared by the global,
# local and cutout tasks (the baseline that trains unstably).
_base_ = 'mulan-byol_resnet50_4xb256-coslr-200e_in1k.py'

model = dict(head=dict(shared_predictor=True))
