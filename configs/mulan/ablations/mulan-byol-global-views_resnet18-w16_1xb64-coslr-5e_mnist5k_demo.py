# MULAN's second ablation at demo scale: the MULAN-BYOL demo with its two
# global views only (the global task alone, BYOL's symmetric pair), no
# local and no cutout views: the gain that the extra view types bring.
# Same crops, colour recipes, model and schedule as the demo.
#   python tools/analysis_tools/small_scale_benchmark.py THIS_CONFIG
_base_ = '../mulan-byol_resnet18-w16_1xb64-coslr-5e_mnist5k_demo.py'

model = dict(head=dict(tasks=('global', ), task_weights=(1., )))
train_pipeline = [
    dict(
        type='MultiViewWithKeys',
        num_views=[1, 1],
        transforms=[{{_base_.global_1_view}}, {{_base_.global_2_view}}],
        view_types=['global', 'global']),
    dict(type='PackInputs', meta_keys=['view_type']),
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=train_pipeline)))
