# MULAN's first ablation at demo scale: the MULAN-BYOL demo with ONE
# predictor shared by the global, local and cutout tasks instead of one
# per view type (the paper: a shared predictor, forced to solve
# heterogeneous tasks, trains unstably; per-view predictors give +3.8-4
# linear points). Everything else is the demo's.
#   python tools/analysis_tools/small_scale_benchmark.py THIS_CONFIG
_base_ = '../mulan-byol_resnet18-w16_1xb64-coslr-5e_mnist5k_demo.py'

model = dict(head=dict(shared_predictor=True))
